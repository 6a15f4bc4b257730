import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';

/** The built `comfywire install`, with a temporary home and project so no real config is touched. */
describe('comfywire install (built CLI)', () => {
  let dir: string;
  let home: string;
  let project: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfywire-install-cli-'));
    home = join(dir, 'home');
    project = join(dir, 'project');
    mkdirSync(home);
    mkdirSync(project);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) => runCli(['install', ...args], { cwd: project, env: { COMFYWIRE_HOME: home, XDG_CONFIG_HOME: '' } });

  it('--dry-run prints the resulting files keyed by path and writes nothing', async () => {
    const r = await run(['--client', 'all', '--scope', 'project', '--dry-run', '--env', 'COMFYUI_URL=http://gpu:8188']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual([join(project, '.cursor', 'mcp.json'), join(project, '.mcp.json'), join(project, '.vscode', 'mcp.json')].sort());
    expect(out[join(project, '.vscode', 'mcp.json')].servers.comfywire).toEqual({ type: 'stdio', command: 'node', args: [CLI, 'serve'], env: { COMFYUI_URL: 'http://gpu:8188' } });
    expect(r.stderr).toMatch(/would create/);
    expect(readdirSync(project)).toEqual([]);
  });

  it('writes the user file under the overridden home, then changes nothing on a second run', async () => {
    writeFileSync(join(home, '.claude.json'), JSON.stringify({ theme: 'dark', mcpServers: { other: { command: 'o' } } }));
    const first = await run(['--client', 'claude-code']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`updated ${join(home, '.claude.json')}`);
    const doc = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8'));
    expect(Object.keys(doc.mcpServers)).toEqual(['other', 'comfywire']);
    expect(doc.theme).toBe('dark');
    const second = await run(['--client', 'claude-code']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('already registered');
    expect(second.stdout).toBe('');
  });

  it('refuses a broken file with exit code 2, naming file and line, and leaves it as it was', async () => {
    mkdirSync(join(home, '.cursor'));
    const file = join(home, '.cursor', 'mcp.json');
    writeFileSync(file, '{\n  "mcpServers": {\n    "a": {"command": "x"}\n  \n');
    const r = await run(['--client', 'cursor']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} is not valid JSON (line`);
    expect(r.stderr).toMatch(/hint: .*left untouched/);
    expect(r.stderr).toContain(`add this inside "mcpServers": "comfywire":{"command":"node","args":["${CLI}","serve"]`);
    expect(readFileSync(file, 'utf8')).toBe('{\n  "mcpServers": {\n    "a": {"command": "x"}\n  \n');
    expect(existsSync(`${file}.bak`)).toBe(false);
  });

  it('without --client uses the clients it finds, and says so when there are none', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/No MCP client found.*\n.*--client/);
    mkdirSync(join(home, '.cursor'));
    const found = await run([]);
    expect(found.code).toBe(0);
    expect(existsSync(join(home, '.cursor', 'mcp.json'))).toBe(true);
    expect(existsSync(join(home, '.claude.json'))).toBe(false);
  });

  it('rejects a malformed --env', async () => {
    const r = await run(['--client', 'cursor', '--env', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--env');
  });
});
