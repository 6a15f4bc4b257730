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
 * A session ends on DELETE, on transport close or when the HTTP server closes; its server's
 * cleanup runs then (pending waits end, subscriptions and tasks are dropped, jobs keep running).
 */

interface Session {
  transport: StreamableHTTPServerTransport;
  close(): Promise<void>;
}

export class HttpSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly deps: McpDeps) {}

  get size(): number {
    return this.sessions.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers['mcp-session-id'];
    const id = Array.isArray(header) ? header[0] : header;
    if (id !== undefined) {
      const session = this.sessions.get(id);
      // 404 tells a client its session is gone and it must initialize again (spec).
      if (!session) return refuse(res, 404, 'Session not found: initialize a new session.');
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return refuse(res, 400, 'Bad Request: no Mcp-Session-Id; start with an initialize POST.');
    await this.open(req, res);
  }

  private async open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { server, cleanup } = createServer(this.deps);
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
      await cleanup().catch((e: unknown) => this.deps.logger.warn(`session cleanup failed: ${describeError(e)}`));
      await server.close().catch(() => undefined);
    };
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        this.sessions.set(sid, { transport, close });
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
