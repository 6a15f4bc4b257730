/**
 * Where each MCP client keeps its server list, and the shape of one entry. The facts come from
 * each client's documentation: VS Code reads `servers` from `mcp.json`; Claude Code and Cursor
 * read `mcpServers` (Claude Code's user scope lives at the top of `~/.claude.json`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CLIENTS = ['vscode', 'claude-code', 'cursor'] as const;
export type ClientName = (typeof CLIENTS)[number];
export const SCOPES = ['user', 'project'] as const;
export type Scope = (typeof SCOPES)[number];

/** The key our server is registered under in every client. */
export const SERVER_NAME = 'comfywire';

export interface ServerLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface ClientTarget {
  client: ClientName;
  scope: Scope;
  /** Absolute path of the client's config file. */
  file: string;
  /** Top-level key that maps server names to entries. */
  serversKey: 'servers' | 'mcpServers';
  /** The entry this client expects for a stdio server. */
  entry(launch: ServerLaunch): Record<string, unknown>;
}

export interface Locations {
  home: string;
  cwd: string;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
}

/** VS Code's user folder follows Electron's appData: per platform, XDG-aware on Linux. */
function vscodeUserDir(loc: Locations): string {
  if (loc.platform === 'darwin') return join(loc.home, 'Library', 'Application Support', 'Code', 'User');
  if (loc.platform === 'win32') return join(loc.env['APPDATA'] ?? join(loc.home, 'AppData', 'Roaming'), 'Code', 'User');
  return join(loc.env['XDG_CONFIG_HOME'] || join(loc.home, '.config'), 'Code', 'User');
}

const stdioEntry = (launch: ServerLaunch) => ({ type: 'stdio', command: launch.command, args: launch.args, env: launch.env });
/** Cursor's documented stdio entries carry no `type`; adding one would be a guess. */
const plainEntry = (launch: ServerLaunch) => ({ command: launch.command, args: launch.args, env: launch.env });

export function clientTarget(client: ClientName, scope: Scope, loc: Locations): ClientTarget {
  switch (client) {
    case 'vscode':
      return {
        client, scope, serversKey: 'servers', entry: stdioEntry,
        file: scope === 'project' ? join(loc.cwd, '.vscode', 'mcp.json') : join(vscodeUserDir(loc), 'mcp.json'),
      };
    case 'claude-code':
      return {
        client, scope, serversKey: 'mcpServers', entry: stdioEntry,
        file: scope === 'project' ? join(loc.cwd, '.mcp.json') : join(loc.home, '.claude.json'),
      };
    case 'cursor':
      return {
        client, scope, serversKey: 'mcpServers', entry: plainEntry,
        file: join(scope === 'project' ? loc.cwd : loc.home, '.cursor', 'mcp.json'),
      };
  }
}

/**
 * Clients that look installed (user scope) or already used by the project (project scope), so a
 * bare `comfywire install` does not scatter config files for editors the person does not use.
 */
export function detectClients(scope: Scope, loc: Locations): ClientName[] {
  const signs: Record<ClientName, string[]> =
    scope === 'user'
      ? {
          vscode: [vscodeUserDir(loc)],
          'claude-code': [join(loc.home, '.claude.json'), join(loc.home, '.claude')],
          cursor: [join(loc.home, '.cursor')],
        }
      : {
          vscode: [join(loc.cwd, '.vscode')],
          'claude-code': [join(loc.cwd, '.mcp.json'), join(loc.cwd, '.claude')],
          cursor: [join(loc.cwd, '.cursor')],
        };
  return CLIENTS.filter((c) => signs[c].some((p) => existsSync(p)));
}
