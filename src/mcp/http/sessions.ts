import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { describeError } from '../../errors.js';
import type { McpDeps } from '../deps.js';
import { createServer } from '../server.js';
import { refuse } from './guards.js';

/**
 * Stateful Streamable HTTP sessions: an initialize request without a session id opens one (its own
 * McpServer from createServer, all sharing the engine); later requests carry `Mcp-Session-Id`.
 * A session ends on DELETE, on transport close, when the HTTP server closes, or after
 * `idleMs` without a request; its server's cleanup runs then (pending waits end, subscriptions
 * and tasks are dropped, jobs keep running).
 *
 * At `maxSessions` a new initialize is refused (503), not made room for by evicting the least
 * recently used session: that one may belong to a client that is alive and merely quiet (an agent
 * between tasks), and a client that opens sessions in a loop would push everyone else out.
 * Abandoned sessions go by idle expiry instead, and the refusal says when the next one will.
 */

/** Expired ids remembered so a late request hears "expired", not "unknown"; bounded. */
const EXPIRED_IDS_KEPT = 1000;

export interface SessionLimits {
  maxSessions: number;
  idleMs: number;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  close(): Promise<void>;
  /** Requests being answered, an open SSE stream included: a busy session never expires. */
  busy: number;
  lastActive: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

export class HttpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly expired = new Set<string>();
  /** Initialize requests being answered: they count against the cap before they have an id. */
  private opening = 0;

  constructor(
    private readonly deps: McpDeps,
    private readonly limits: SessionLimits = {
      maxSessions: deps.config.limits.httpMaxSessions,
      idleMs: deps.config.limits.httpSessionIdleMs,
    },
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers['mcp-session-id'];
    const id = Array.isArray(header) ? header[0] : header;
    if (id !== undefined) {
      const session = this.sessions.get(id);
      // 404 tells a client its session is gone and it must initialize again (spec).
      if (!session) {
        return refuse(
          res,
          404,
          this.expired.has(id)
            ? `Session expired after ${minutes(this.limits.idleMs)} without a request: initialize again (COMFYWIRE_HTTP_SESSION_IDLE_MS sets the limit).`
            : 'Session not found: initialize a new session.',
        );
      }
      this.track(session, res);
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return refuse(res, 400, 'Bad Request: no Mcp-Session-Id; start with an initialize POST.');
    if (this.sessions.size + this.opening >= this.limits.maxSessions) return this.refuseFull(res);
    this.opening++;
    try {
      await this.open(req, res);
    } finally {
      this.opening--;
    }
  }

  private refuseFull(res: ServerResponse): void {
    const now = Date.now();
    const idle = [...this.sessions.values()].filter((s) => s.busy === 0);
    const nextExpiry = idle.length ? Math.min(...idle.map((s) => s.lastActive + this.limits.idleMs)) - now : undefined;
    const retryS = nextExpiry === undefined ? undefined : Math.max(1, Math.ceil(nextExpiry / 1000));
    refuse(
      res,
      503,
      `Too many open MCP sessions (${this.sessions.size} of ${this.limits.maxSessions}). Close unused ones (HTTP DELETE ${'/mcp'} with their ` +
        `Mcp-Session-Id), or raise COMFYWIRE_HTTP_MAX_SESSIONS. Idle sessions close after ${minutes(this.limits.idleMs)}` +
        (retryS === undefined ? '; every session is busy now.' : `; the next in ${retryS} s.`),
      retryS === undefined ? {} : { 'retry-after': String(retryS) },
    );
  }

  /** A request on the session: activity now, and again when its answer (or SSE stream) ends. */
  private track(session: Session, res: ServerResponse): void {
    session.busy++;
    session.lastActive = Date.now();
    clearTimeout(session.idleTimer);
    session.idleTimer = undefined;
    res.once('close', () => {
      session.busy--;
      session.lastActive = Date.now();
      // A DELETE ends the session before its answer closes: nothing left to expire then.
      const live = session.transport.sessionId !== undefined && this.sessions.get(session.transport.sessionId) === session;
      if (session.busy === 0 && live) this.armIdle(session);
    });
  }

  private armIdle(session: Session): void {
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => {
      const id = session.transport.sessionId;
      if (id) this.remember(id);
      this.deps.logger.info(`MCP HTTP session ${id ?? '?'} closed after ${minutes(this.limits.idleMs)} idle`);
      void session.transport.close().then(() => session.close());
    }, this.limits.idleMs);
    // An idle session must not keep the process alive on its own.
    session.idleTimer.unref?.();
  }

  private remember(id: string): void {
    this.expired.add(id);
    if (this.expired.size > EXPIRED_IDS_KEPT) this.expired.delete(this.expired.values().next().value!);
  }

  private async open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { server, cleanup } = createServer(this.deps);
    let closed = false;
    let session: Session | undefined;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      if (session) clearTimeout(session.idleTimer);
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
      await cleanup().catch((e: unknown) => this.deps.logger.warn(`session cleanup failed: ${describeError(e)}`));
      await server.close().catch(() => undefined);
    };
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        session = { transport, close, busy: 0, lastActive: Date.now(), idleTimer: undefined };
        this.sessions.set(sid, session);
        this.track(session, res);
        this.deps.logger.info(`MCP HTTP session ${sid} opened`);
      },
      onsessionclosed: (sid) => {
        this.deps.logger.info(`MCP HTTP session ${sid} closed by the client`);
      },
    });
    transport.onclose = () => void close();
    await server.connect(transport);
    await transport.handleRequest(req, res);
    // Not an initialize request (the transport answered 400): no session came of it.
    if (!transport.sessionId) await close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.transport.close().then(() => s.close())));
    this.sessions.clear();
  }
}

function minutes(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
