import WebSocket from 'ws';
import {
  AsyncSubject, EMPTY, Subject, catchError, concatWith, defer, filter, finalize, ignoreElements, map, merge,
  share, switchMap, take, takeUntil, tap, throwError, timeout, type Observable, type SchedulerLike,
} from 'rxjs';
import { decodeBinaryFrame, isBinaryPayload } from './binary-frames.js';
import type { ComfyEvent } from './messages.js';
import { parseFrame, type FrameReporter } from './parse-frame.js';
import { SocketStalledError, keepAlive, stallWatch } from './stall-watch.js';

/**
 * One socket's life as an Observable: subscribe opens it, it emits `open` then decoded events,
 * it errors when the socket drops or stalls (only after the socket is fully closed, so a reconnect
 * with the same clientId never overlaps the old socket: protocol §3.2), and it completes after a
 * clean close the owner asked for. Reconnecting is the owner's business (`retry`).
 */

/** The part of a WebSocket we use; `ws` and mock-socket both fit. */
export interface WebSocketLike {
  binaryType: string;
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any`: the event objects differ between ws, the DOM and mock-socket; listen() narrows them.
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (ev: any) => void): void;
  ping?(): void;
  on?(event: 'pong', cb: () => void): void;
  /** Drop the connection without a closing handshake (`ws` has it): for a peer that stopped answering. */
  terminate?(): void;
  /** Listeners registered for an event (`ws` is an EventEmitter): diagnostics only. */
  listenerCount?(event: string): number;
}
export type WebSocketFactory = (url: string, headers: Record<string, string>) => WebSocketLike;

/** ComfyUI frames can exceed 1 MiB (tracebacks, big text outputs, full-size PNGs via SaveImageWebsocket). */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

/** Opens sockets with the `ws` package: custom headers reach the upgrade request (proxy auth). */
export const defaultWebSocketFactory: WebSocketFactory = (url, headers) =>
  new WebSocket(url, { headers, maxPayload: MAX_FRAME_BYTES }) as unknown as WebSocketLike;

export const SocketReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
/** Close codes we send: normal closure, and one from the application range for a stalled peer. */
export const CLIENT_CLOSE_CODE = 1000;
export const STALLED_CLOSE_CODE = 4000;

/** Must be the client's first message, or the server never sends type-4 previews (protocol §3.1). */
export const FEATURE_FLAGS_MESSAGE = JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } });

export type SocketSignal = { kind: 'open' } | { kind: 'event'; event: ComfyEvent };

interface CloseInfo {
  code: number | undefined;
  reason: string;
  wasClean: boolean | undefined;
}

/** The socket closed or failed without us asking. */
export class SocketDroppedError extends Error {
  readonly closeCode: number | undefined;
  constructor(message: string, closeCode?: number) {
    super(message);
    this.name = 'SocketDroppedError';
    this.closeCode = closeCode;
  }
}

export interface SessionOptions {
  url: string;
  headers: Record<string, string>;
  factory: WebSocketFactory;
  /** No frame, pong or open for this long -> the socket is dropped. 0 disables. */
  stallTimeoutMs: number;
  /** ping() period on sockets that have it. 0 disables. */
  pingIntervalMs: number;
  /** How long a closing handshake may take before we stop waiting for it. */
  closeTimeoutMs: number;
  scheduler: SchedulerLike;
  /** Emits when the owner wants a clean close. */
  closeRequest$: Observable<unknown>;
  report: FrameReporter;
  /** Told of each socket as it is made (the connection's diagnostics count its listeners). */
  onSocket?: (socket: WebSocketLike) => void;
}

export function socketSession(options: SessionOptions): Observable<SocketSignal> {
  return defer(() => {
    const socket = options.factory(options.url, options.headers);
    socket.binaryType = 'arraybuffer';
    options.onSocket?.(socket);
    const wire = listen(socket);

    const opened$ = wire.open$.pipe(
      tap(() => socket.send(FEATURE_FLAGS_MESSAGE)),
      map((): SocketSignal => ({ kind: 'open' })),
    );
    // Each frame decoded once, for the events and for the stall watch alike.
    let garbage = false;
    const decoded$ = wire.message$.pipe(
      map((data) => decodeFrame(data, options.report)),
      tap((event) => {
        if (event === undefined) garbage = true;
        else if (isKnown(event)) garbage = false;
      }),
      share(),
    );
    const events$ = decoded$.pipe(
      filter((event): event is ComfyEvent => event !== undefined),
      map((event): SocketSignal => ({ kind: 'event', event })),
    );
    const dropped$ = merge(
      wire.error$.pipe(map((detail): never => { throw new SocketDroppedError(`WebSocket error: ${socketErrorText(detail)}`); })),
      wire.closed$.pipe(map((info): never => { throw droppedByClose(info); })),
    );
    // Signs of life: the open, a frame that decodes as a known ComfyUI message, and pongs unless
    // the last frames were garbage. A socket sending only garbage (its pongs answered by the
    // socket library, not by ComfyUI) is stalled after stallTimeoutMs, redialed and resynced;
    // unknown message types (custom nodes) neither count nor spoil the pongs.
    const alive$ = merge(wire.open$, decoded$.pipe(filter((e) => e !== undefined && isKnown(e))), wire.pong$.pipe(filter(() => !garbage)));
    const pings$ = wire.open$.pipe(take(1), switchMap(() => keepAlive(socket.ping?.bind(socket), options.pingIntervalMs, options.scheduler)));

    return merge(opened$, events$, dropped$, pings$, stallWatch(alive$, options.stallTimeoutMs, options.scheduler)).pipe(
      takeUntil(options.closeRequest$),
      // Asked to close: say goodbye properly and complete once the socket is closed.
      concatWith(shutDown(socket, wire, 'close', options)),
      // Dropped or stalled: make sure the old socket is gone before the owner reconnects.
      catchError((error: unknown) =>
        shutDown(socket, wire, error instanceof SocketStalledError ? 'terminate' : 'close', options).pipe(
          concatWith(throwError(() => error)),
        ),
      ),
      // Unsubscribed without either (the owner was torn down): do not leak the socket.
      finalize(() => {
        if (isLive(socket)) socket.close(CLIENT_CLOSE_CODE, 'comfywire closing');
      }),
    );
  });
}

/** A message of a type ComfyUI itself sends (custom nodes' own types arrive as 'unknown'). */
function isKnown(event: ComfyEvent): boolean {
  return event.type !== 'unknown';
}

/** A text or binary frame -> ComfyEvent; anything undecodable is reported and dropped. */
export function decodeFrame(data: unknown, report: FrameReporter): ComfyEvent | undefined {
  if (typeof data === 'string') return parseFrame(data, report);
  if (isBinaryPayload(data)) return decodeBinaryFrame(data, report);
  report('frame of unsupported payload type', { payloadType: Object.prototype.toString.call(data) });
  return undefined;
}

interface SocketWire {
  open$: Observable<void>;
  message$: Observable<unknown>;
  error$: Observable<unknown>;
  closed$: Observable<CloseInfo>;
  pong$: Observable<void>;
}

/**
 * Socket events as streams. WebSocketLike has no removeEventListener, so the listeners live as long
 * as the socket; once the session is over nobody subscribes and the Subjects drop what they get.
 */
function listen(socket: WebSocketLike): SocketWire {
  const open$ = new Subject<void>();
  const message$ = new Subject<unknown>();
  const error$ = new Subject<unknown>();
  const closed$ = new AsyncSubject<CloseInfo>(); // remembers the close for anyone who waits later
  const pong$ = new Subject<void>();
  socket.addEventListener('open', () => open$.next());
  socket.addEventListener('message', (event: { data: unknown }) => message$.next(event.data));
  socket.addEventListener('error', (event: unknown) => error$.next(event));
  socket.addEventListener('close', (event: { code?: number; reason?: string; wasClean?: boolean }) => {
    closed$.next({ code: event.code, reason: event.reason ?? '', wasClean: event.wasClean });
    closed$.complete();
  });
  socket.on?.('pong', () => pong$.next());
  return { open$, message$, error$, closed$, pong$ };
}

/** Close (or, for a stalled peer, terminate) the socket if still live, then wait for its close event, bounded. */
function shutDown(socket: WebSocketLike, wire: SocketWire, how: 'close' | 'terminate', options: SessionOptions): Observable<never> {
  return defer(() => {
    if (isLive(socket)) {
      if (how === 'terminate' && socket.terminate) socket.terminate();
      else if (how === 'terminate') socket.close(STALLED_CLOSE_CODE, 'comfywire: connection stalled');
      else socket.close(CLIENT_CLOSE_CODE, 'comfywire closing');
    }
    return wire.closed$.pipe(
      timeout({
        first: options.closeTimeoutMs,
        scheduler: options.scheduler,
        // The handshake did not finish: cut the connection rather than hang.
        with: () => {
          socket.terminate?.();
          return EMPTY;
        },
      }),
      ignoreElements(),
    );
  });
}

function isLive(socket: WebSocketLike): boolean {
  return socket.readyState === SocketReadyState.CONNECTING || socket.readyState === SocketReadyState.OPEN;
}

function droppedByClose(info: CloseInfo): SocketDroppedError {
  const reason = info.reason ? `: ${info.reason}` : '';
  return new SocketDroppedError(`WebSocket closed by the server or network (code ${info.code ?? 'none'}${reason})`, info.code);
}

/**
 * ws gives an ErrorEvent with `message`/`error`; DOM and mock-socket give a bare Event. Not
 * src/errors.ts's describeError: these are events, not Errors, and String() of one is "[object Event]".
 */
function socketErrorText(detail: unknown): string {
  if (detail && typeof detail === 'object') {
    const { message, error } = detail as { message?: unknown; error?: unknown };
    if (typeof message === 'string' && message) return message;
    if (error instanceof Error) return error.message;
  }
  return 'connection failed';
}
