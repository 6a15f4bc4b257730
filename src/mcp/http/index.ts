import { randomBytes } from 'node:crypto';
import { createServer as createHttp, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigInvalidError, describeError } from '../../errors.js';
import type { McpDeps } from '../deps.js';
import { admit, allowedHostHeaders, hostPort, isLoopback, refuse } from './guards.js';
import { HttpSessions } from './sessions.js';
import { CallAdmission } from '../rate-limit.js';

export { isLoopback, originAllowed, tokenMatches } from './guards.js';

export const MCP_PATH = '/mcp';
export const DEFAULT_HTTP_HOST = '127.0.0.1';
/** 32 random bytes: unguessable, and short enough to paste into a client's config. */
const TOKEN_BYTES = 32;

export interface HttpServerOptions {
  deps: McpDeps;
  /** Bind address; 127.0.0.1 by default. A non-loopback address needs an explicit token. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token every request must carry; generated (and returned) when absent. */
  token?: string;
  /** Browser origins allowed besides loopback pages, e.g. "https://inspector.example". */
  allowedOrigins?: readonly string[];
}

export interface HttpServerHandle {
  /** The MCP endpoint, e.g. http://127.0.0.1:8765/mcp */
  url: string;
  port: number;
  /** The token in force: the configured one, or the generated one to print once. */
  token: string;
  /** Sessions open now (for tests and diagnostics). */
  openSessions(): number;
  close(): Promise<void>;
}

/** Serve MCP over Streamable HTTP on `host:port/mcp`, behind a bearer token and Host/Origin checks. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const loopback = isLoopback(host);
  if (!loopback && !options.token) {
    throw new ConfigInvalidError(`Refusing to serve MCP on ${host}, which is reachable from other machines, without a configured token.`, {
      hint:
        'Anyone who can reach the port could render on your GPU and read your outputs. Set COMFYWIRE_HTTP_TOKEN to a long random ' +
        'secret (e.g. `openssl rand -hex 32`) and give it to your clients, or bind 127.0.0.1 (COMFYWIRE_HTTP_HOST / --host).',
      context: { host },
    });
  }
  const token = options.token ?? randomBytes(TOKEN_BYTES).toString('base64url');
  const { logger } = options.deps;
  // One set of rate limits for all sessions: a client cannot get a fresh bucket by opening another.
  const deps = { ...options.deps, admission: options.deps.admission ?? new CallAdmission(options.deps.config.limits) };
  const sessions = new HttpSessions(deps);
  let hosts: Set<string> | undefined;

  const server: Server = createHttp((req, res) => {
    if (!admit(req, res, { token, hosts, allowedOrigins: options.allowedOrigins ?? [] })) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path !== MCP_PATH) return refuse(res, 404, `Not found: the MCP endpoint is ${MCP_PATH}.`);
    sessions.handle(req, res).catch((error: unknown) => {
      logger.error(`MCP HTTP request failed: ${describeError(error)}`);
      if (!res.headersSent) refuse(res, 500, 'Internal error');
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // Only a loopback bind pins the Host header: elsewhere clients use names we cannot know, and
  // the required token already stops a rebinding page, which cannot learn it.
  hosts = loopback ? allowedHostHeaders(host, port) : undefined;
  logger.info(`MCP Streamable HTTP listening on ${host}:${port}${MCP_PATH}`);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPort(host, port)}${MCP_PATH}`,
    port,
    token,
    openSessions: () => sessions.size,
    close: () =>
      (closing ??= (async () => {
        await sessions.closeAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // SSE streams stay open; end them so close() does not wait for clients to go.
          server.closeAllConnections();
        });
      })()),
  };
}
