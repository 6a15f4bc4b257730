/**
 * From `--client` / `--scope` to the files to edit: an explicit client, all of them, or the ones
 * found on this machine (home scopes) or in this project (project scopes).
 */
import { ConfigInvalidError } from '../errors.js';
import { CLIENTS, CLIENT_LABELS, CLIENT_SCOPES, clientTarget, detectClients, resolveScope, type ClientName, type ClientTarget, type Locations, type Scope } from './clients.js';

function scopeExists(client: ClientName, scope: string | undefined): boolean {
  try {
    resolveScope(client, scope);
    return true;
  } catch {
    return false;
  }
}

export function resolveTargets(client: ClientName | 'all' | undefined, scope: string | undefined, loc: Locations): ClientTarget[] {
  if (client !== undefined) {
    return (client === 'all' ? [...CLIENTS] : [client]).map((c) => clientTarget(c, resolveScope(c, scope), loc));
  }
  // No client named: the detected ones that have this scope (`--scope local` means Claude Code).
  const usable = CLIENTS.filter((c) => scopeExists(c, scope));
  if (usable.length === 0) {
    throw new ConfigInvalidError(`--scope ${JSON.stringify(String(scope).slice(0, 40))} does not exist for any client.`, {
      hint: CLIENTS.map((c) => `${CLIENT_LABELS[c]}: ${CLIENT_SCOPES[c].join(', ')}`).join('; ') + '.',
      context: { option: '--scope' },
    });
  }
  const scopeOf = (c: ClientName): Scope => (usable.includes(c) ? resolveScope(c, scope) : CLIENT_SCOPES[c][0]!);
  const found = detectClients(loc, scopeOf).filter((c) => usable.includes(c));
  if (found.length === 0) {
    throw new ConfigInvalidError(`No MCP client found${scope ? ` for --scope ${scope}` : ''}.`, {
      hint: `Name one with --client (${CLIENTS.join(', ')} or all); comfywire creates its config file if needed.`,
      context: { option: '--client' },
    });
  }
  return found.map((c) => clientTarget(c, scopeOf(c), loc));
}
