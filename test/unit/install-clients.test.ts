import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientTarget, detectClients, resolveScope, type Locations } from '../../src/install/clients.js';
import { nextSteps } from '../../src/install/next-steps.js';
import { cliEntryPoint, NpxCacheLaunchError, resolveLaunch } from '../../src/install/server-launch.js';
import { serverSettings } from '../../src/install/server-settings.js';
import { resolveTargets } from '../../src/install/targets.js';

const LOC: Locations = { home: '/h', cwd: '/p', platform: 'linux', env: {} };
const LAUNCH = { command: 'comfywire', args: ['serve'] };
const ENV = { COMFYUI_URL: 'http://x:1' };

describe('install: client files, scopes and entry shapes', () => {
  it.each([
    ['claude-code', 'local', '/h/.claude.json', ['projects', '/p', 'mcpServers'], 0o600],
    ['claude-code', 'project', '/p/.mcp.json', ['mcpServers'], 0o644],
    ['claude-code', 'user', '/h/.claude.json', ['mcpServers'], 0o600],
    ['vscode', 'workspace', '/p/.vscode/mcp.json', ['servers'], 0o644],
    ['vscode', 'user', '/h/.config/Code/User/mcp.json', ['servers'], 0o644],
    ['cursor', 'project', '/p/.cursor/mcp.json', ['mcpServers'], 0o644],
    ['cursor', 'user', '/h/.cursor/mcp.json', ['mcpServers'], 0o644],
  ] as const)('%s (%s) -> %s at %j, created with mode %o', (client, scope, file, path, mode) => {
    const t = clientTarget(client, scope, LOC);
    expect([t.file, t.serversPath, t.createMode]).toEqual([file, path, mode]);
  });

  it('each client defaults to its private scope; project and workspace are one scope; a wrong one is named', () => {
    expect([resolveScope('claude-code', undefined), resolveScope('vscode', undefined), resolveScope('cursor', undefined)]).toEqual(['local', 'user', 'user']);
    expect(resolveScope('vscode', 'project')).toBe('workspace');
    expect(resolveScope('cursor', 'workspace')).toBe('project');
    expect(() => resolveScope('vscode', 'local')).toThrow(/--scope "local" does not exist for vscode/);
    expect(() => resolveTargets(undefined, 'global', LOC)).toThrow(/--scope "global" does not exist for any client/);
  });

  it('VS Code user folder per platform', () => {
    expect(clientTarget('vscode', 'user', { ...LOC, platform: 'darwin' }).file).toBe('/h/Library/Application Support/Code/User/mcp.json');
    expect(clientTarget('vscode', 'user', { ...LOC, env: { XDG_CONFIG_HOME: '/xdg' } }).file).toBe('/xdg/Code/User/mcp.json');
  });

  it('VS Code and Claude Code entries say type stdio; Cursor entries carry command, args, env', () => {
    expect(clientTarget('vscode', 'user', LOC).entry(LAUNCH, ENV)).toEqual({ type: 'stdio', ...LAUNCH, env: ENV });
    expect(clientTarget('claude-code', 'local', LOC).entry(LAUNCH, ENV)).toEqual({ type: 'stdio', ...LAUNCH, env: ENV });
    expect(clientTarget('cursor', 'user', LOC).entry(LAUNCH, ENV)).toEqual({ ...LAUNCH, env: ENV });
  });

  it('secrets are referred to the way each client expands them', () => {
    expect(clientTarget('claude-code', 'project', LOC).secretReference('COMFYUI_AUTH_TOKEN', 'd')).toEqual({ value: '${COMFYUI_AUTH_TOKEN}' });
    expect(clientTarget('cursor', 'project', LOC).secretReference('COMFYUI_AUTH_TOKEN', 'd')).toEqual({ value: '${env:COMFYUI_AUTH_TOKEN}' });
    expect(clientTarget('vscode', 'workspace', LOC).secretReference('COMFYUI_AUTH_TOKEN', 'd')).toEqual({
      value: '${input:comfywire-comfyui-auth-token}',
      input: { type: 'promptString', id: 'comfywire-comfyui-auth-token', description: 'd', password: true },
    });
  });

  it('detects clients by their folders, per scope', () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfywire-detect-'));
    try {
      const loc: Locations = { home: join(dir, 'h'), cwd: join(dir, 'p'), platform: 'linux', env: {} };
      mkdirSync(join(loc.home, '.cursor'), { recursive: true });
      mkdirSync(join(loc.cwd, '.vscode'), { recursive: true });
      expect(detectClients(loc, (c) => resolveScope(c, undefined))).toEqual(['cursor']);
      expect(detectClients(loc, (c) => resolveScope(c, 'project'))).toEqual(['vscode']);
      writeFileSync(join(loc.home, '.claude.json'), '{}');
      expect(resolveTargets(undefined, undefined, loc).map((t) => `${t.client} ${t.scope}`)).toEqual(['claude-code local', 'cursor user']);
      // `--scope local` exists for Claude Code only, so it picks that one.
      expect(resolveTargets(undefined, 'local', loc).map((t) => t.client)).toEqual(['claude-code']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('install: the launch command survives moves', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'comfywire-launch-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const base = { npx: false, version: '1.2.3', platform: 'linux' as const };

  /** A package laid out the way `npm i -g` does it: the bin on PATH links to dist/comfywire.mjs. */
  function globalInstall(): { entryPoint: string; bin: string } {
    const pkg = join(dir, 'prefix', 'lib', 'node_modules', 'comfywire');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    const entryPoint = join(pkg, 'dist', 'comfywire.mjs');
    writeFileSync(entryPoint, '');
    const bin = join(dir, 'prefix', 'bin');
    mkdirSync(bin);
    symlinkSync(entryPoint, join(bin, 'comfywire'));
    return { entryPoint, bin };
  }

  it('an installed package whose bin is on PATH runs as `comfywire`', () => {
    const { entryPoint, bin } = globalInstall();
    expect(resolveLaunch({ ...base, entryPoint, env: { PATH: `/usr/bin:${bin}` } })).toEqual({ kind: 'installed', command: 'comfywire', args: ['serve'] });
  });

  it('another comfywire on PATH does not count: the entry names this folder and says it is tied to it', () => {
    const { bin } = globalInstall();
    const checkout = join(dir, 'src', 'comfywire');
    mkdirSync(join(checkout, 'dist'), { recursive: true });
    writeFileSync(join(checkout, 'dist', 'comfywire.mjs'), '');
    const launch = resolveLaunch({ ...base, entryPoint: join(checkout, 'dist', 'comfywire.mjs'), env: { PATH: bin } });
    expect(launch).toEqual({ kind: 'folder', command: 'node', args: [join(checkout, 'dist', 'comfywire.mjs'), 'serve'], folder: checkout });
  });

  it('--npx pins this version; on Windows through cmd /c, which finds npx.cmd', () => {
    expect(resolveLaunch({ ...base, npx: true, entryPoint: '/x/dist/comfywire.mjs', env: {} })).toEqual({ kind: 'npx', command: 'npx', args: ['-y', 'comfywire@1.2.3', 'serve'] });
    expect(resolveLaunch({ ...base, npx: true, platform: 'win32', entryPoint: 'C:\\x\\dist\\comfywire.mjs', env: {} }).args).toEqual(['/c', 'npx', '-y', 'comfywire@1.2.3', 'serve']);
  });

  it('refuses a path into npx\'s cache, even with that cache on PATH, and suggests --npx', () => {
    const cache = join(dir, '.npm', '_npx', 'abc123', 'node_modules');
    mkdirSync(join(cache, 'comfywire', 'dist'), { recursive: true });
    mkdirSync(join(cache, '.bin'));
    const entryPoint = join(cache, 'comfywire', 'dist', 'comfywire.mjs');
    writeFileSync(entryPoint, '');
    symlinkSync(entryPoint, join(cache, '.bin', 'comfywire'));
    const error = (() => { try { resolveLaunch({ ...base, entryPoint, env: { PATH: join(cache, '.bin') } }); } catch (e) { return e as NpxCacheLaunchError; } })();
    expect(error).toBeInstanceOf(NpxCacheLaunchError);
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.message).toContain("npx's cache");
    expect(error?.hint).toContain('--npx');
  });

  it('from this checkout: node and the built bundle', () => {
    const launch = resolveLaunch({ ...base, entryPoint: cliEntryPoint(), env: { PATH: '' } });
    expect(launch.kind).toBe('folder');
    expect(launch.args).toEqual([cliEntryPoint(), 'serve']);
    expect(cliEntryPoint()).toMatch(/dist[/\\]comfywire\.mjs$/);
  });
});

describe('install: what the entry carries', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfywire-settings-'));
    writeFileSync(join(dir, '.env'), 'COMFYUI_URL=http://from-file:8188\nCOMFYWIRE_OUTPUT_DIR=out\nCOMFYUI_AUTH_TOKEN=from-file-token\nDATABASE_URL=postgres://app:pw@db/app\n');
    chmodSync(join(dir, '.env'), 0o600);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const loc = () => ({ ...LOC, cwd: dir });
  const request = (extra: Partial<Parameters<typeof serverSettings>[1]> = {}) => ({ explicitEnv: {}, env: {}, cwd: dir, allowPlaintextSecrets: false, ...extra });

  it('a project-bound entry borrows .env, pins folders, and refers to the token instead of holding it', () => {
    const s = serverSettings(clientTarget('claude-code', 'local', loc()), request());
    expect(s.env).toEqual({ COMFYUI_URL: 'http://from-file:8188', COMFYWIRE_OUTPUT_DIR: join(dir, 'out'), COMFYUI_AUTH_TOKEN: '${COMFYUI_AUTH_TOKEN}' });
    expect(s.referenced).toEqual(['COMFYUI_AUTH_TOKEN']);
    // DATABASE_URL is a common name of the project's own database: only --env brings it in.
    expect(JSON.stringify(s)).not.toContain('postgres');
  });

  it('a user-wide entry takes neither this project\'s .env nor its folders, and says so', () => {
    const s = serverSettings(clientTarget('claude-code', 'user', loc()), request({ env: { COMFYUI_URL: 'http://gpu:8188', COMFYWIRE_OUTPUT_DIR: 'out' } }));
    expect(s.env).toEqual({ COMFYUI_URL: 'http://gpu:8188' });
    expect(s.leftOut.map((l) => l.name)).toEqual(['COMFYWIRE_OUTPUT_DIR', '.env']);
    expect(JSON.stringify(s)).not.toContain('from-file');
  });

  it('VS Code gets a password input per secret; the value is written nowhere', () => {
    const s = serverSettings(clientTarget('vscode', 'workspace', loc()), request({ explicitEnv: { COMFYUI_AUTH_TOKEN: 's3cret-token', DATABASE_URL: 'postgres://u:pw@h/d' } }));
    expect(s.env['COMFYUI_AUTH_TOKEN']).toBe('${input:comfywire-comfyui-auth-token}');
    expect(s.env['DATABASE_URL']).toBe('${input:comfywire-database-url}');
    expect(s.inputs.map((i) => [i.id, i.password])).toEqual([['comfywire-comfyui-auth-token', true], ['comfywire-database-url', true]]);
    expect(JSON.stringify(s)).not.toMatch(/s3cret-token|pw@/);
  });

  it('credentials inside COMFYUI_URL become a referenced COMFYUI_AUTH_BASIC', () => {
    const s = serverSettings(clientTarget('cursor', 'user', loc()), request({ explicitEnv: { COMFYUI_URL: 'http://alice:pa%20ss@gpu:8188' } }));
    expect(s.env).toEqual({ COMFYUI_URL: 'http://gpu:8188', COMFYUI_AUTH_BASIC: '${env:COMFYUI_AUTH_BASIC}' });
  });

  it('--allow-plaintext-secrets writes the value, and the next step warns about it', () => {
    const target = clientTarget('claude-code', 'project', loc());
    const s = serverSettings(target, request({ explicitEnv: { COMFYUI_AUTH_TOKEN: 'tok' }, allowPlaintextSecrets: true }));
    expect(s.env['COMFYUI_AUTH_TOKEN']).toBe('tok');
    expect(nextSteps(target, s, dir).join('\n')).toMatch(/warning: COMFYUI_AUTH_TOKEN written in plain text .*often committed/);
  });

  it('next steps: approval for a Claude Code project server, trust in VS Code, the switch in Cursor', () => {
    const steps = (client: 'claude-code' | 'vscode' | 'cursor', scope: 'local' | 'project' | 'workspace' | 'user') => {
      const target = clientTarget(client, scope, loc());
      return nextSteps(target, serverSettings(target, request({ explicitEnv: { COMFYUI_AUTH_TOKEN: 't' } })), dir).join('\n');
    };
    expect(steps('claude-code', 'project')).toMatch(/⏸ Pending approval.*approve comfywire.*claude mcp list/s);
    expect(steps('claude-code', 'project')).toContain('Set COMFYUI_AUTH_TOKEN in the environment you start Claude Code from');
    expect(steps('claude-code', 'local')).toMatch(/claude mcp list.*✔ Connected/);
    expect(steps('vscode', 'workspace')).toMatch(/MCP: List Servers.*trust it.*asks once for COMFYUI_AUTH_TOKEN/);
    expect(steps('cursor', 'user')).toMatch(/Cursor Settings ▸ MCP.*\n.*\$\{env:COMFYUI_AUTH_TOKEN\}/);
    expect(existsSync(join(dir, '.mcp.json'))).toBe(false);
  });
});
