/**
 * Where each MCP client keeps its server list, the shape of one entry, and how it lets an entry
 * refer to a secret instead of holding it. The facts come from each client's documentation:
 * - Claude Code: scope `local` (its default) in ~/.claude.json under projects[<folder>].mcpServers,
 *   `project` in <folder>/.mcp.json, `user` in ~/.claude.json mcpServers; `${VAR}` in an entry is
 *   expanded from the environment Claude Code runs in.
 * - VS Code: `servers` in .vscode/mcp.json (workspace) or the profile's mcp.json (user), JSONC;
 *   `inputs` of type promptString with `password: true` are asked once and kept in its secret store.
 * - Cursor: `mcpServers` in <folder>/.cursor/mcp.json or ~/.cursor/mcp.json; `${env:VAR}`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigInvalidError } from '../errors.js';

export const CLIENTS = ['vscode', 'claude-code', 'cursor'] as const;
export type ClientName = (typeof CLIENTS)[number];
export const SCOPES = ['local', 'project', 'workspace', 'user'] as const;
export type Scope = (typeof SCOPES)[number];

/** The key our server is registered under in every client. */
export const SERVER_NAME = 'comfywire';
/** VS Code input ids we own start with this, so a reinstall can drop the ones it no longer uses. */
export const INPUT_PREFIX = 'comfywire-';

/**
 * Each client's scopes, its default first. The defaults write only files private to the person
 * (nothing that gets committed): Claude Code's own default, `local`, and the user files elsewhere.
 */
export const CLIENT_SCOPES: Record<ClientName, readonly Scope[]> = {
  'claude-code': ['local', 'project', 'user'],
  vscode: ['user', 'workspace'],
  cursor: ['user', 'project'],
};

export const CLIENT_LABELS: Record<ClientName, string> = { 'claude-code': 'Claude Code', vscode: 'VS Code', cursor: 'Cursor' };

export interface ServerLaunch {
  command: string;
  args: string[];
}

export interface SecretReference {
  /** What the entry's env holds instead of the secret. */
  value: string;
  /** A VS Code input to declare next to the servers. */
  input?: { type: 'promptString'; id: string; description: string; password: true };
}

export interface ClientTarget {
  client: ClientName;
  scope: Scope;
  /** Absolute path of the client's config file. */
  file: string;
  /** JSON path of the object that maps server names to entries. */
  serversPath: string[];
  /** Mode of a file we create: the client's own (Claude Code keeps ~/.claude.json private). */
  createMode: number;
  /** True for files in the project folder, which are often committed. */
  inProject: boolean;
  /** The entry this client expects for a stdio server. */
  entry(launch: ServerLaunch, env: Record<string, string>): Record<string, unknown>;
  /** How this client's entry refers to a secret held elsewhere. */
  secretReference(name: string, description: string): SecretReference;
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

const stdioEntry = (launch: ServerLaunch, env: Record<string, string>) => ({ type: 'stdio', command: launch.command, args: launch.args, env });
/** Cursor's documented stdio entries carry no `type`; adding one would be a guess. */
const plainEntry = (launch: ServerLaunch, env: Record<string, string>) => ({ command: launch.command, args: launch.args, env });

const inputId = (name: string) => `${INPUT_PREFIX}${name.toLowerCase().replace(/_/g, '-')}`;

/** `project` and `workspace` name the same thing; each client keeps its own word for it. */
export function resolveScope(client: ClientName, requested: string | undefined): Scope {
  const scopes = CLIENT_SCOPES[client];
  if (requested === undefined) return scopes[0]!;
  const alias = requested === 'project' && client === 'vscode' ? 'workspace' : requested === 'workspace' && client !== 'vscode' ? 'project' : requested;
  const scope = scopes.find((s) => s === alias);
  if (!scope) {
    throw new ConfigInvalidError(`--scope ${JSON.stringify(requested.slice(0, 40))} does not exist for ${client}.`, {
      hint: `${CLIENT_LABELS[client]} scopes: ${scopes.join(', ')} (default ${scopes[0]}).`,
      context: { option: '--scope' },
    });
  }
  return scope;
}

export function clientTarget(client: ClientName, scope: Scope, loc: Locations): ClientTarget {
  const inProject = scope === 'project' || scope === 'workspace';
  switch (client) {
    case 'vscode':
      return {
        client, scope, inProject, serversPath: ['servers'], entry: stdioEntry, createMode: 0o644,
        file: inProject ? join(loc.cwd, '.vscode', 'mcp.json') : join(vscodeUserDir(loc), 'mcp.json'),
        secretReference: (name, description) => ({
          value: `\${input:${inputId(name)}}`,
          input: { type: 'promptString', id: inputId(name), description, password: true },
        }),
      };
    case 'claude-code':
      return {
        client, scope, inProject, entry: stdioEntry,
        file: scope === 'project' ? join(loc.cwd, '.mcp.json') : join(loc.home, '.claude.json'),
        serversPath: scope === 'local' ? ['projects', loc.cwd, 'mcpServers'] : ['mcpServers'],
        createMode: scope === 'project' ? 0o644 : 0o600,
        secretReference: (name) => ({ value: `\${${name}}` }),
      };
    case 'cursor':
      return {
        client, scope, inProject, serversPath: ['mcpServers'], entry: plainEntry, createMode: 0o644,
        file: join(inProject ? loc.cwd : loc.home, '.cursor', 'mcp.json'),
        secretReference: (name) => ({ value: `\${env:${name}}` }),
      };
  }
}

/**
 * Clients that look installed (a scope in the home folder) or already used by the project (a
 * project scope), so a bare `comfywire install` does not scatter config files for editors the
 * person does not use.
 */
export function detectClients(loc: Locations, scopeOf: (client: ClientName) => Scope): ClientName[] {
  const signs = (client: ClientName): string[] => {
    const inProject = ['project', 'workspace'].includes(scopeOf(client));
    switch (client) {
      case 'vscode':
        return [inProject ? join(loc.cwd, '.vscode') : vscodeUserDir(loc)];
      case 'claude-code':
        return inProject ? [join(loc.cwd, '.mcp.json'), join(loc.cwd, '.claude')] : [join(loc.home, '.claude.json'), join(loc.home, '.claude')];
      case 'cursor':
        return [join(inProject ? loc.cwd : loc.home, '.cursor')];
    }
  };
  return CLIENTS.filter((c) => signs(c).some((p) => existsSync(p)));
}
