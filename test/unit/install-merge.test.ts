import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientTarget, type Locations, type ServerLaunch } from '../../src/install/clients.js';
import { applyInstall, planInstall } from '../../src/install/install.js';
import { ClientConfigInvalidError, deepMerge, detectIndent, parseConfigText } from '../../src/install/json-document.js';

const LAUNCH: ServerLaunch = { command: 'node', args: ['/opt/comfywire/dist/src/cli/main.js', 'serve'], env: { COMFYUI_URL: 'http://gpu:8188' } };

describe('install: merging into an existing client config', () => {
  let dir: string;
  let loc: Locations;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfywire-install-'));
    loc = { home: join(dir, 'home'), cwd: join(dir, 'project'), platform: 'linux', env: {} };
    mkdirSync(loc.home);
    mkdirSync(loc.cwd);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps other servers and unrelated keys, in order, with the file\'s indentation', async () => {
    const target = clientTarget('claude-code', 'user', loc);
    const original = { numStartups: 12, mcpServers: { github: { type: 'stdio', command: 'gh-mcp', args: [] } }, projects: { '/x': { allowedTools: ['a'] } } };
    writeFileSync(target.file, JSON.stringify(original, null, 4) + '\n');
    const outcome = await applyInstall(await planInstall(target, LAUNCH));
    expect(outcome.written).toBe(target.file);
    const text = readFileSync(target.file, 'utf8');
    expect(text).toMatch(/^\{\n {4}"numStartups"/);
    const doc = JSON.parse(text);
    expect(Object.keys(doc)).toEqual(['numStartups', 'mcpServers', 'projects']);
    expect(doc.projects).toEqual(original.projects);
    expect(doc.mcpServers.github).toEqual(original.mcpServers.github);
    expect(doc.mcpServers.comfywire).toEqual({ type: 'stdio', ...LAUNCH });
  });

  it('is idempotent: a second run writes nothing and leaves the backup alone', async () => {
    const target = clientTarget('cursor', 'project', loc);
    mkdirSync(join(loc.cwd, '.cursor'));
    writeFileSync(target.file, '{"mcpServers": {"other": {"command": "x"}}}');
    const first = await applyInstall(await planInstall(target, LAUNCH));
    expect(first.backup).toBe(`${target.file}.bak`);
    const afterFirst = readFileSync(target.file, 'utf8');
    const second = await applyInstall(await planInstall(target, LAUNCH));
    expect(second.plan.changed).toBe(false);
    expect(second.written).toBeUndefined();
    expect(readFileSync(target.file, 'utf8')).toBe(afterFirst);
    expect(readFileSync(`${target.file}.bak`, 'utf8')).toBe('{"mcpServers": {"other": {"command": "x"}}}');
  });

  it('keeps the previous file as .bak and leaves no temp files behind', async () => {
    const target = clientTarget('vscode', 'project', loc);
    mkdirSync(join(loc.cwd, '.vscode'));
    writeFileSync(target.file, '{"inputs": [], "servers": {}}\n');
    await applyInstall(await planInstall(target, LAUNCH));
    expect(readFileSync(`${target.file}.bak`, 'utf8')).toBe('{"inputs": [], "servers": {}}\n');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(join(loc.cwd, '.vscode')).sort()).toEqual(['mcp.json', 'mcp.json.bak']);
  });

  it('creates a missing file and its folder, without a backup', async () => {
    const target = clientTarget('cursor', 'user', loc);
    const outcome = await applyInstall(await planInstall(target, LAUNCH));
    expect(outcome.backup).toBeUndefined();
    expect(JSON.parse(readFileSync(target.file, 'utf8'))).toEqual({ mcpServers: { comfywire: LAUNCH } });
  });

  it('updates an older comfywire entry, keeping env values added by hand', async () => {
    const target = clientTarget('claude-code', 'project', loc);
    writeFileSync(target.file, JSON.stringify({ mcpServers: { comfywire: { type: 'stdio', command: 'node', args: ['/old/main.js', 'serve', '--simulate'], env: { COMFYUI_AUTH_TOKEN: 's3cret', COMFYUI_URL: 'http://old:8188' } } } }));
    await applyInstall(await planInstall(target, LAUNCH));
    const entry = JSON.parse(readFileSync(target.file, 'utf8')).mcpServers.comfywire;
    expect(entry.args).toEqual(LAUNCH.args);
    expect(entry.env).toEqual({ COMFYUI_AUTH_TOKEN: 's3cret', COMFYUI_URL: 'http://gpu:8188' });
  });

  it('refuses invalid JSON, naming file and line, and leaves the file untouched', async () => {
    const target = clientTarget('vscode', 'project', loc);
    mkdirSync(join(loc.cwd, '.vscode'));
    const broken = '{\n  "servers": {\n    "a": { "command": "x" },\n  }\n}\n';
    writeFileSync(target.file, broken);
    const error = await planInstall(target, LAUNCH).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientConfigInvalidError);
    expect((error as Error).message).toContain(target.file);
    expect((error as Error).message).toMatch(/line 4/);
    expect(readFileSync(target.file, 'utf8')).toBe(broken);
    expect(existsSync(`${target.file}.bak`)).toBe(false);
  });

  it('refuses a servers key that is not an object', async () => {
    const target = clientTarget('cursor', 'user', loc);
    mkdirSync(join(loc.home, '.cursor'));
    writeFileSync(target.file, '{"mcpServers": []}');
    await expect(planInstall(target, LAUNCH)).rejects.toThrow(/"mcpServers" is not an object/);
  });
});

describe('install: JSON helpers', () => {
  it('parses an empty file as an empty object and hints at comments', () => {
    expect(parseConfigText('  \n', 'f.json')).toEqual({});
    const error = (() => { try { parseConfigText('{\n  // mine\n  "servers": {}\n}', 'mcp.json'); } catch (e) { return e as ClientConfigInvalidError; } })();
    expect(error?.message).toMatch(/mcp\.json is not valid JSON \(line 2/);
    expect(error?.hint).toMatch(/comments/);
  });

  it('refuses a top-level array', () => {
    expect(() => parseConfigText('[]', 'x.json')).toThrow(/not an object/);
  });

  it('merges objects deeply and replaces arrays', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
  });

  it('copies the indentation in use', () => {
    expect(detectIndent('{\n\t"a": 1\n}')).toBe('\t');
    expect(detectIndent('{"a": 1}')).toBe(2);
  });
});
