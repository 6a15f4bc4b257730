import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { SimContext } from './context.js';
import { HttpError, sendError } from './http-util.js';
import { historyRoutes } from './routes/history.js';
import { infoRoutes } from './routes/info.js';
import { jobsRoutes } from './routes/jobs.js';
import { promptRoutes } from './routes/prompt.js';
import { queueRoutes } from './routes/queue.js';
import type { Route } from './routes/route.js';
import { uploadRoutes } from './routes/upload.js';
import { userdataRoutes } from './routes/userdata.js';
import { viewRoutes } from './routes/view.js';

const ROUTES: Route[] = [...promptRoutes, ...queueRoutes, ...historyRoutes, ...viewRoutes, ...uploadRoutes, ...infoRoutes, ...userdataRoutes];

export interface HttpServerOptions {
  authProxy?: { header: string; value: string };
  /** True while the "stall" fault holds new WS upgrades unanswered. */
  stalled(): boolean;
}

/** Every route also lives under /api (the frontend uses those). */
function routePath(pathname: string): string {
  return pathname === '/api' ? '/' : pathname.startsWith('/api/') ? pathname.slice(4) : pathname;
}

function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\./.test(name);
}

/**
 * ComfyUI's origin check: a request carrying Host and Origin, where Host is loopback and
 * Origin's host[:port] differs from Host, is refused with an empty 403.
 */
function originRefused(req: IncomingMessage): boolean {
  const host = req.headers.host;
  const origin = req.headers.origin;
  if (!host || !origin || !isLoopbackHost(host)) return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/** The reverse proxy some users put in front: 401 unless the header matches. */
function proxyRefused(req: IncomingMessage, auth: HttpServerOptions['authProxy']): boolean {
  return auth !== undefined && req.headers[auth.header.toLowerCase()] !== auth.value;
}

export function createHttpServer(ctx: SimContext, options: HttpServerOptions): { server: Server; wss: WebSocketServer; releaseHung: () => void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 100 * 1024 * 1024 });
  wss.on('connection', (ws, req) => ctx.hub.attach(ws, req));

  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (proxyRefused(req, options.authProxy)) throw new HttpError(401, '401 Unauthorized', 'text/plain; charset=utf-8');
      if (originRefused(req)) throw new HttpError(403);
      const url = new URL(req.url ?? '/', 'http://simulator');
      const pathname = routePath(url.pathname);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      // The jobs routes exist only in 'latest', and only under /api (ComfyUI names them "/api/jobs...").
      const routes = ctx.api === 'latest' && url.pathname.startsWith('/api/') ? [...jobsRoutes, ...ROUTES] : ROUTES;
      for (const route of routes) {
        if (route.method !== method) continue;
        const m = route.path.exec(pathname);
        if (!m) continue;
        await route.handle({ req, res, url, params: m.slice(1).map((p) => decodeURIComponent(p)), ctx });
        return;
      }
      throw new HttpError(404, '404: Not Found', 'text/plain; charset=utf-8');
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof HttpError) return sendError(res, err);
      ctx.logger?.warn(`simulator: ${req.method} ${req.url} failed: ${String(err)}`);
      sendError(res, new HttpError(500, '500 Internal Server Error\n\nServer got itself in trouble', 'text/plain; charset=utf-8'));
    }
  }

  const hung = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (proxyRefused(req, options.authProxy)) return refuse(401, 'Unauthorized');
    if (originRefused(req)) return refuse(403, 'Forbidden');
    const pathname = routePath(new URL(req.url ?? '/', 'http://simulator').pathname);
    if (pathname !== '/ws') return refuse(404, 'Not Found');
    if (options.stalled()) {
      // A hung server: the upgrade is never answered. Kept so unstall/close can drop it; left
      // alone, it would hold server.close() open for ever.
      hung.add(socket);
      socket.once('close', () => hung.delete(socket));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const releaseHung = (): void => {
    for (const socket of hung) socket.destroy();
    hung.clear();
  };
  return { server, wss, releaseHung };
}
