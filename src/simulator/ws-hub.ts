import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger.js';

/** The server flags a real 0.3.64 answers with (also GET /features). */
export const SERVER_FEATURES = { supports_preview_metadata: true, max_upload_size: 104857600 } as const;

interface ConnectHooks {
  queueRemaining(): number;
  /** Node id to announce with a bare `executing` if this sid owns the running prompt. */
  runningNodeFor(sid: string): string | undefined;
}

/**
 * WebSocket connections keyed by sid, with ComfyUI's quirks kept on purpose:
 * - a new socket with an existing sid replaces the old one in the table (the old one stays
 *   open but gets nothing more, not even broadcasts);
 * - when any socket closes, the table entry for its sid is removed, even if it now points
 *   at a newer socket (which then silently stops receiving);
 * - feature flags are honoured only if they are the client's first message.
 */
export class WsHub {
  private readonly sockets = new Map<string, WebSocket>();
  private readonly features = new Map<string, Record<string, unknown>>();
  private readonly all = new Set<WebSocket>();
  private readonly stalled = new Set<WebSocket>();

  constructor(private readonly hooks: ConnectHooks, private readonly logger?: Logger) {}

  attach(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requested = url.searchParams.get('clientId');
    const sid = requested ? requested : randomUUID().replace(/-/g, '');
    this.all.add(ws);
    this.sockets.set(sid, ws);
    this.features.delete(sid);
    this.logger?.debug(`simulator ws connect ${sid}`);
    this.sendTo(ws, 'status', { status: { exec_info: { queue_remaining: this.hooks.queueRemaining() } }, sid });
    const node = this.hooks.runningNodeFor(sid);
    if (node !== undefined) this.sendTo(ws, 'executing', { node });

    let first = true;
    ws.on('message', (data, isBinary) => {
      if (!first || isBinary) return;
      first = false;
      this.negotiate(ws, sid, data.toString());
    });
    ws.on('close', () => {
      this.all.delete(ws);
      this.stalled.delete(ws);
      this.sockets.delete(sid);
      this.features.delete(sid);
    });
    ws.on('error', () => undefined);
  }

  private negotiate(ws: WebSocket, sid: string, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const m = msg as { type?: unknown; data?: unknown };
    if (m.type !== 'feature_flags' || typeof m.data !== 'object' || m.data === null) return;
    this.features.set(sid, m.data as Record<string, unknown>);
    this.sendTo(ws, 'feature_flags', { ...SERVER_FEATURES });
  }

  supportsPreviewMetadata(sid: string | undefined): boolean {
    return sid !== undefined && this.features.get(sid)?.supports_preview_metadata === true;
  }

  /** `sid` undefined means broadcast; a sid with no open socket drops the message. */
  send(type: string, data: unknown, sid: string | undefined): void {
    const text = JSON.stringify({ type, data });
    for (const ws of this.targets(sid)) ws.send(text);
  }

  sendBinary(frame: Buffer, sid: string | undefined): void {
    for (const ws of this.targets(sid)) ws.send(frame, { binary: true });
  }

  private targets(sid: string | undefined): WebSocket[] {
    const live = (ws: WebSocket | undefined): ws is WebSocket => ws !== undefined && ws.readyState === ws.OPEN && !this.stalled.has(ws);
    if (sid === undefined) return [...this.sockets.values()].filter(live);
    const ws = this.sockets.get(sid);
    return live(ws) ? [ws] : [];
  }

  private sendTo(ws: WebSocket, type: string, data: unknown): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type, data }));
  }

  /** Fault: a raw frame to every live socket, as a buggy custom node or proxy might send. */
  sendRaw(frame: string | Buffer): void {
    for (const ws of this.targets(undefined)) ws.send(frame, { binary: typeof frame !== 'string' });
  }

  /** Fault: unclean close of every socket, replaced ones included (clients see 1006). */
  terminateAll(): void {
    for (const ws of this.all) ws.terminate();
  }

  /** Fault: sockets stay open but get nothing, and stop reading so pings go unanswered. */
  stallAll(): void {
    for (const ws of this.all) {
      this.stalled.add(ws);
      ws.pause();
    }
  }

  unstallAll(): void {
    for (const ws of this.stalled) ws.resume();
    this.stalled.clear();
  }
}
