import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger.js';

/** The server flags a real 0.3.64 answers with (also GET /features). */
export const SERVER_FEATURES = { supports_preview_metadata: true, max_upload_size: 104857600 } as const;

/** A client_id that is present but not a string: Python looks it up among str keys and never finds it. */
const UNMATCHABLE_SID = '\u0000comfywire-simulator:non-string-client-id';

/**
 * Where a prompt's targeted messages go, as ComfyUI decides it from extra_data: no client_id or
 * `null` (server.client_id is None) -> undefined, i.e. execution_* and executing are not sent and
 * progress is broadcast; "" and unknown ids are targets with no socket, so everything is dropped.
 */
export function clientTarget(extraData: Record<string, unknown>): string | undefined {
  if (!('client_id' in extraData) || extraData.client_id === null) return undefined;
  return typeof extraData.client_id === 'string' ? extraData.client_id : UNMATCHABLE_SID;
}

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
  /** Fault: every frame replaced by garbage (the socket stays open and answers pings). */
  private garbled = false;
  private garbageCount = 0;

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

    // Only a first text message that parses as a JSON object ends the negotiation window:
    // invalid JSON (or a JSON array) raises before ComfyUI clears its first_message flag.
    let first = true;
    ws.on('message', (data, isBinary) => {
      if (!first || isBinary) return;
      const msg = parseObject(data.toString());
      if (msg === undefined) return;
      first = false;
      this.negotiate(sid, msg);
    });
    ws.on('close', () => {
      this.all.delete(ws);
      this.stalled.delete(ws);
      this.sockets.delete(sid);
      this.features.delete(sid);
    });
    ws.on('error', () => undefined);
  }

  private negotiate(sid: string, m: Record<string, unknown>): void {
    if (m.type !== 'feature_flags') return;
    this.features.set(sid, (m.data ?? {}) as Record<string, unknown>);
    // self.send(..., sid): the reply goes to whichever socket holds the sid now.
    this.send('feature_flags', { ...SERVER_FEATURES }, sid);
  }

  supportsPreviewMetadata(sid: string | undefined): boolean {
    return sid !== undefined && this.features.get(sid)?.supports_preview_metadata === true;
  }

  /** `sid` undefined means broadcast; a sid with no open socket drops the message. */
  send(type: string, data: unknown, sid: string | undefined): void {
    const text = this.garbled ? this.garbage() : JSON.stringify({ type, data });
    for (const ws of this.targets(sid)) ws.send(text);
  }

  sendBinary(frame: Buffer, sid: string | undefined): void {
    for (const ws of this.targets(sid)) ws.send(this.garbled ? this.garbage() : frame, { binary: !this.garbled });
  }

  /** Fault: from now on every message (targeted or broadcast) goes out as garbage; pings are still answered. */
  setGarbled(garbled: boolean): void {
    this.garbled = garbled;
  }

  private garbage(): string {
    return `\u0000garbage ${++this.garbageCount} {not json`;
  }

  private targets(sid: string | undefined): WebSocket[] {
    const live = (ws: WebSocket | undefined): ws is WebSocket => ws !== undefined && ws.readyState === ws.OPEN && !this.stalled.has(ws);
    if (sid === undefined) return [...this.sockets.values()].filter(live);
    const ws = this.sockets.get(sid);
    return live(ws) ? [ws] : [];
  }

  private sendTo(ws: WebSocket, type: string, data: unknown): void {
    if (ws.readyState === ws.OPEN) ws.send(this.garbled ? this.garbage() : JSON.stringify({ type, data }));
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

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
