import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopback } from '../../exposure.js';

/**
 * Request checks for the Streamable HTTP endpoint. A page in a browser can reach a loopback port
 * (DNS rebinding: a hostile name that resolves to 127.0.0.1), so Host and Origin are checked
 * before anything else, and every request must carry the bearer token.
 */

/** JSON-RPC code for a request refused before it reached the MCP server (implementation-defined range). */
export const REFUSED_CODE = -32000;

export { isLoopback };

/** host:port as it appears in a Host header (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return `${isIP(bare) === 6 ? `[${bare}]` : bare}:${port}`.toLowerCase();
}

/** The Host values a client on this machine sends for a loopback bind. */
export function allowedHostHeaders(host: string, port: number): Set<string> {
  return new Set([hostPort(host, port), hostPort('localhost', port), hostPort('127.0.0.1', port), hostPort('::1', port)]);
}

/** A present Origin must be a loopback page or one the user listed; no Origin (non-browser clients) passes. */
export function originAllowed(origin: string | undefined, allowedOrigins: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopback(url.hostname);
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage are foreign
  }
}

/** Constant-time comparison: hashing first makes the lengths equal, so neither bytes nor length leak. */
export function tokenMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const given = createHash('sha256').update(match?.[1] ?? '').digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted) && match !== null;
}

export function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: REFUSED_CODE, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export interface GuardOptions {
  token: string;
  /** Host headers accepted; undefined = any (a non-loopback bind, where the token is the defence). */
  hosts: Set<string> | undefined;
  allowedOrigins: readonly string[];
}

/** Answers and returns false when the request may not proceed. */
export function admit(req: IncomingMessage, res: ServerResponse, options: GuardOptions): boolean {
  const host = req.headers.host?.toLowerCase();
  if (options.hosts && (!host || !options.hosts.has(host))) {
    refuse(res, 403, `Forbidden: Host "${host ?? ''}" is not this server (DNS rebinding protection).`);
    return false;
  }
  const origin = req.headers.origin;
  if (!originAllowed(origin, options.allowedOrigins)) {
    refuse(res, 403, `Forbidden: Origin "${origin ?? ''}" is not allowed. Only loopback pages (or configured origins) may call this server.`);
    return false;
  }
  if (!tokenMatches(req.headers.authorization, options.token)) {
    refuse(res, 401, 'Unauthorized: send "Authorization: Bearer <token>" with the token comfywire printed at start (or COMFYWIRE_HTTP_TOKEN).', {
      'www-authenticate': 'Bearer realm="comfywire"',
    });
    return false;
  }
  return true;
}
