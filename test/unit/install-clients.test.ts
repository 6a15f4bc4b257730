import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientTarget, detectClients, type Locations } from '../../src/install/clients.js';
import { cliEntryPoint, serverLaunch } from '../../src/install/server-launch.js';

const LOC: Locations = { home: '/h', cwd: '/p', platform: 'linux', env: {} };
const LAUNCH = { command: 'node', args: ['/i/main.js', 'serve'], env: { COMFYUI_URL: 'http://x:1' } };

describe('install: client files and entry shapes', () => {
  it.each([
    ['vscode', 'project', '/p/.vscode/mcp.json', 'servers'],
    ['vscode', 'user', '/h/.config/Code/User/mcp.json', 'servers'],
    ['claude-code', 'project', '/p/.mcp.json', 'mcpServers'],
    ['claude-code', 'user', '/h/.claude.json', 'mcpServers'],
    ['cursor', 'project', '/p/.cursor/mcp.json', 'mcpServers'],
    ['cursor', 'user', '/h/.cursor/mcp.json', 'mcpServers'],
  ] as const)('%s (%s) -> %s under %s', (client, scope, file, key) => {
    const t = clientTarget(client, scope, LOC);
    expect([t.file, t.serversKey]).toEqual([file, key]);
  });

  it('VS Code user folder per platform', () => {
    expect(clientTarget('vscode', 'user', { ...LOC, platform: 'darwin' }).file).toBe('/h/Library/Application Support/Code/User/mcp.json');
    expect(clientTarget('vscode', 'user', { ...LOC, env: { XDG_CONFIG_HOME: '/xdg' } }).file).toBe('/xdg/Code/User/mcp.json');
  });

  it('VS Code and Claude Code entries say type stdio; Cursor entries carry command, args, env', () => {
    expect(clientTarget('vscode', 'user', LOC).entry(LAUNCH)).toEqual({ type: 'stdio', ...LAUNCH });
    expect(clientTarget('claude-code', 'user', LOC).entry(LAUNCH)).toEqual({ type: 'stdio', ...LAUNCH });
    expect(clientTarget('cursor', 'user', LOC).entry(LAUNCH)).toEqual(LAUNCH);
  });

  it('detects clients by their folders', () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfywire-detect-'));
    try {
      const loc: Locations = { home: join(dir, 'h'), cwd: join(dir, 'p'), platform: 'linux', env: {} };
      mkdirSync(join(loc.home, '.cursor'), { recursive: true });
      mkdirSync(join(loc.cwd, '.vscode'), { recursive: true });
      expect(detectClients('user', loc)).toEqual(['cursor']);
      expect(detectClients('project', loc)).toEqual(['vscode']);
      writeFileSync(join(loc.home, '.claude.json'), '{}');
      expect(detectClients('user', loc)).toEqual(['claude-code', 'cursor']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('install: the server launch', () => {
  it('runs this installation\'s built CLI with `serve`', () => {
    const { launch } = serverLaunch({ explicitEnv: {}, env: {}, cwd: '/nowhere' });
    expect(launch.command).toBe('node');
    expect(launch.args).toEqual([cliEntryPoint(), 'serve']);
    expect(cliEntryPoint()).toMatch(/dist[/\\]comfywire\.mjs$/);
    expect(existsSync(cliEntryPoint())).toBe(true);
  });

  it('carries ComfyUI settings, pins relative folders, and leaves secrets to --env', () => {
    const { launch, secretsLeftOut } = serverLaunch({
      explicitEnv: { COMFYWIRE_LOG_LEVEL: 'debug' },
      env: { COMFYUI_URL: 'http://gpu:8188', COMFYWIRE_OUTPUT_DIR: 'out', COMFYUI_AUTH_TOKEN: 't', HOME: '/h' },
      cwd: '/proj',
    });
    expect(launch.env).toEqual({ COMFYUI_URL: 'http://gpu:8188', COMFYWIRE_OUTPUT_DIR: '/proj/out', COMFYWIRE_LOG_LEVEL: 'debug' });
    expect(secretsLeftOut).toEqual(['COMFYUI_AUTH_TOKEN']);
  });

  it('reads COMFYUI_URL from .env when the environment lacks it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfywire-dotenv-'));
    try {
      writeFileSync(join(dir, '.env'), 'COMFYUI_URL=http://from-file:8188\n');
      expect(serverLaunch({ explicitEnv: {}, env: {}, cwd: dir }).launch.env).toEqual({ COMFYUI_URL: 'http://from-file:8188' });
      expect(serverLaunch({ explicitEnv: {}, env: { COMFYUI_URL: 'http://env:1' }, cwd: dir }).launch.env).toEqual({ COMFYUI_URL: 'http://env:1' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
