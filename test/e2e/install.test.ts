import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'jsonc-parser';
import { REPO_ROOT } from '../helpers/engine-harness.js';
import { CLI, childEnv, runCli, type CliResult } from '../helpers/cli.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The built `comfywire install` / `uninstall`, with a temporary HOME and project folder so no
 * real config is touched: one scope of each client end to end, the usage errors, and the launch
 * command of a copy of the bundle laid out as a global install and as npx's cache.
 */
describe('comfywire install / uninstall (built CLI)', () => {
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
  const homeEnv = () => ({ HOME: home, USERPROFILE: home, XDG_CONFIG_HOME: '', XDG_STATE_HOME: '' });
  const run = (args: string[]) => runCli(args, { cwd: project, env: homeEnv() });
  const read = (file: string) => readFileSync(file, 'utf8');

  it('Claude Code, local scope (its default): ~/.claude.json created 0600, idempotent, tied to this checkout, removed by uninstall', async () => {
    const first = await run(['install', '--client', 'claude-code']);
    expect(first.code).toBe(0);
    const file = join(home, '.claude.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(parse(read(file)).projects[project].mcpServers.comfywire).toEqual({ type: 'stdio', command: 'node', args: [CLI, 'serve'], env: {} });
    expect(first.stderr).toContain(`claude-code (local): created ${file}`);
    expect(first.stderr).toMatch(/it is tied to .*npm i -g comfywire.*--npx/s);
    expect(first.stderr).toMatch(/claude mcp list.*✔ Connected/);
    const text = read(file);
    const second = await run(['install', '--client', 'claude-code', '--scope', 'local']);
    expect([second.code, second.stdout]).toEqual([0, '']);
    expect(second.stderr).toContain('already registered');
    expect(read(file)).toBe(text);
    const removed = await run(['uninstall', '--client', 'claude-code']);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toContain(`deleted ${file} (install had created it)`);
    expect(existsSync(file)).toBe(false);
  });

  it('VS Code, workspace scope: a JSONC file keeps its comments, the token becomes a password input, dry runs write nothing', async () => {
    mkdirSync(join(project, '.vscode'));
    const file = join(project, '.vscode', 'mcp.json');
    const original = '{\n  // servers of this repo\n  "servers": {\n    "github": { "command": "gh-mcp" } // mine\n  }\n}\n';
    writeFileSync(file, original);
    const args = ['--client', 'vscode', '--scope', 'workspace', '--env', 'COMFYUI_AUTH_TOKEN=s3cret-value-123', '--env', 'COMFYUI_URL=http://gpu:8188'];

    const dry = await run(['install', ...args, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^--- ${file}\\n\\+\\+\\+ ${file}\\n@@ `));
    expect(dry.stdout).toContain('+      "type": "promptString",');
    expect(dry.stdout).toContain('\n-    "github": { "command": "gh-mcp" } // mine\n');
    expect(dry.stdout).toContain('\n+    "github": { "command": "gh-mcp" }, // mine\n+    "comfywire": {\n');
    expect(read(file)).toBe(original);

    const r = await run(['install', ...args]);
    expect(r.code).toBe(0);
    const text = read(file);
    expect(text).toContain('// servers of this repo');
    expect(text).toContain('"github": { "command": "gh-mcp" }, // mine');
    expect(text).not.toContain('s3cret-value-123');
    const doc = parse(text);
    expect(doc.servers.comfywire.env).toEqual({ COMFYUI_URL: 'http://gpu:8188', COMFYUI_AUTH_TOKEN: '${input:comfywire-comfyui-auth-token}' });
    expect(doc.inputs).toEqual([{ type: 'promptString', id: 'comfywire-comfyui-auth-token', description: expect.stringContaining('COMFYUI_AUTH_TOKEN'), password: true }]);
    expect(r.stderr).toMatch(/MCP: List Servers.*trust it.*asks once for COMFYUI_AUTH_TOKEN/);

    const dryOut = await run(['uninstall', '--client', 'vscode', '--scope', 'project', '--dry-run']);
    expect(dryOut.stdout).toContain('-      "password": true');
    expect(read(file)).toBe(text);
    const out = await run(['uninstall', '--client', 'vscode', '--scope', 'project']);
    expect(out.code).toBe(0);
    expect(read(file)).toBe(original);
  });

  it('Cursor, user scope: a diff from /dev/null, then the file, then nothing left', async () => {
    const file = join(home, '.cursor', 'mcp.json');
    const dry = await run(['install', '--client', 'cursor', '--dry-run', '--env', 'COMFYUI_AUTH_TOKEN=tok-abcdef']);
    expect(dry.stdout).toMatch(/^--- \/dev\/null\n\+\+\+ .*mcp\.json\n@@ -0,0 \+1,\d+ @@\n\+\{/);
    expect(dry.stdout).toContain('"COMFYUI_AUTH_TOKEN": "${env:COMFYUI_AUTH_TOKEN}"');
    expect(existsSync(join(home, '.cursor'))).toBe(false);
    const r = await run(['install', '--client', 'cursor', '--env', 'COMFYUI_AUTH_TOKEN=tok-abcdef']);
    expect(r.code).toBe(0);
    expect(read(file)).not.toContain('tok-abcdef');
    expect(r.stderr).toMatch(/Cursor Settings ▸ MCP/);
    expect(r.stderr).toContain('Set COMFYUI_AUTH_TOKEN in the environment Cursor starts from');
    expect((await run(['uninstall', '--client', 'cursor'])).code).toBe(0);
    expect(readdirSync(home)).toEqual(['.local']); // the install record's folder, nothing else
  });

  it('Claude Code, project scope: says it waits for approval', async () => {
    const r = await run(['install', '--client', 'claude-code', '--scope', 'project']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/⏸ Pending approval.*approve comfywire.*claude mcp list/);
    expect(parse(read(join(project, '.mcp.json'))).mcpServers.comfywire.command).toBe('node');
  });

  it.each([
    [['install', '--client', 'vscode', '--scope', 'local'], '--scope'],
    [['install', '--client', 'cursor', '--env', 'nope'], '--env'],
    [['install', '--client', 'emacs'], '--client'],
    [['install', '--bogus'], '--bogus'],
    [['uninstall', '--scope', 'global'], '--scope'],
  ])('%j is a usage error (exit 2) naming %s, and writes nothing', async (args, option) => {
    const r: CliResult = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(option);
    expect(readdirSync(project)).toEqual([]);
  });

  it('without --client uses the clients it finds, and says so when there are none', async () => {
    const none = await run(['install']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/No MCP client found.*\n.*--client/);
    mkdirSync(join(home, '.cursor'));
    const found = await run(['install']);
    expect(found.code).toBe(0);
    expect(existsSync(join(home, '.cursor', 'mcp.json'))).toBe(true);
    expect(existsSync(join(home, '.claude.json'))).toBe(false);
  });

  it('refuses a broken file with exit code 2, naming file and line, and leaves it as it was', async () => {
    mkdirSync(join(home, '.cursor'));
    const file = join(home, '.cursor', 'mcp.json');
    writeFileSync(file, '{\n  "mcpServers": {\n    "a": {"command": "x"}\n  \n');
    const r = await run(['install', '--client', 'cursor']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} is not valid JSON (line`);
    expect(r.stderr).toMatch(/hint: .*left untouched/);
    expect(read(file)).toBe('{\n  "mcpServers": {\n    "a": {"command": "x"}\n  \n');
  });

  describe('the launch command of a copy of the bundle', () => {
    /** Runs a copy of the built CLI laid out at `pkg` (node_modules/comfywire), with `bin` first on PATH. */
    function runCopy(pkg: string, bin: string | undefined, args: string[]): Promise<CliResult> {
      mkdirSync(join(pkg, 'dist'), { recursive: true });
      // The bin and the chunks it loads on demand (scripts/bundle.mjs).
      for (const name of readdirSync(dirname(CLI)).filter((n) => n === 'comfywire.mjs' || /^chunk-.*\.mjs$/.test(n))) {
        copyFileSync(join(dirname(CLI), name), join(pkg, 'dist', name));
      }
      copyFileSync(join(REPO_ROOT, 'package.json'), join(pkg, 'package.json'));
      if (bin) {
        mkdirSync(bin, { recursive: true });
        symlinkSync(join(pkg, 'dist', 'comfywire.mjs'), join(bin, 'comfywire'));
      }
      const env = childEnv({ ...homeEnv(), PATH: `${bin ? `${bin}:` : ''}${process.env['PATH'] ?? ''}` });
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [join(pkg, 'dist', 'comfywire.mjs'), ...args], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    }

    it('installed globally (the bin on PATH is this file): the entry says `comfywire`', async () => {
      const prefix = join(dir, 'prefix');
      const r = await runCopy(join(prefix, 'lib', 'node_modules', 'comfywire'), join(prefix, 'bin'), ['install', '--client', 'cursor', '--scope', 'project']);
      expect(r.code).toBe(0);
      expect(parse(read(join(project, '.cursor', 'mcp.json'))).mcpServers.comfywire).toEqual({ command: 'comfywire', args: ['serve'], env: {} });
      expect(r.stderr).toContain('runs `comfywire` from PATH');
    });

    it('from npx\'s cache: refused with exit 2 and a pointer to --npx; with --npx the entry pins this version', async () => {
      const cache = join(dir, '.npm', '_npx', '0123abcd', 'node_modules');
      const refused = await runCopy(join(cache, 'comfywire'), join(cache, '.bin'), ['install', '--client', 'claude-code', '--scope', 'project']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/npx's cache.*\n.*--npx/);
      expect(existsSync(join(project, '.mcp.json'))).toBe(false);
      const viaNpx = await runCopy(join(dir, 'again', '_npx', 'x', 'node_modules', 'comfywire'), undefined, ['install', '--client', 'claude-code', '--scope', 'project', '--npx']);
      expect(viaNpx.code).toBe(0);
      expect(parse(read(join(project, '.mcp.json'))).mcpServers.comfywire).toEqual({ type: 'stdio', command: 'npx', args: ['-y', `comfywire@${VERSION}`, 'serve'], env: {} });
    });
  });
});
