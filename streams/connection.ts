import {
  EMPTY, ReplaySubject, Subject, catchError, connectable, defer, filter, firstValueFrom, map, retry, takeUntil,
  tap, throwError, timer, asyncScheduler,
  type Connectable, type Observable, type SchedulerLike, type Subscription,
} from 'rxjs';
import { ComfyUnreachableError } from '../src/errors.js';
import { createLogger, type Logger } from '../src/logger.js';
import { backoffDelay, resolveBackoff, type BackoffOptions } from './backoff.js';
import type { ComfyEvent } from './messages.js';
import type { FrameReporter } from './parse-frame.js';
import { frameWarnings, type FrameWarnings } from './frame-warnings.js';
import { defaultWebSocketFactory, socketSession, type SocketSignal, type WebSocketFactory, type WebSocketLike } from './socket-session.js';
import { redactUrl, socketUrl } from './socket-url.js';

export type { WebSocketFactory, WebSocketLike } from './socket-session.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * What the connection holds now, for diagnostics (get_system_stats) and for the soak test, which
 * checks that each figure stays flat over thousands of jobs: a per-job subscription or listener
 * that is never released shows up here as a number that grows.
 */
export interface ConnectionCounts {
  /** Subscribers of events$ (the router, the job policies, the feed, resource notifications...). */
  eventSubscribers: number;
  /** Subscribers of state$, queueRemaining$, reconnected$ and serverFeatures$ together. */
  stateSubscribers: number;
  /** Listeners on the current WebSocket, all events together; undefined before the first socket. */
  socketListeners: number | undefined;
}

/** The events a socket's listeners can be registered for. */
const SOCKET_EVENTS = ['open', 'message', 'close', 'error', 'ping', 'pong'] as const;

/** ComfyUI sends nothing while idle, so the ping/pong round trip is what proves an idle socket alive. */
export const DEFAULT_PING_INTERVAL_MS = 15_000;
/** Three missed pings: long enough for a busy Python event loop, short enough to notice a dead proxy. */
export const DEFAULT_STALL_TIMEOUT_MS = 45_000;
/** A closing handshake that takes longer than this is cut off. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;

export interface ConnectionOptions {
  /** ComfyUI's HTTP base URL, e.g. http://127.0.0.1:8188 or https://host/comfy (prefix kept). */
  baseUrl: string;
  /** Fixed for the life of the process: targeted events follow it across reconnects. */
  clientId: string;
  /** Sent with the upgrade request (reverse-proxy auth). */
  headers?: Record<string, string>;
  webSocketFactory?: WebSocketFactory;
  backoff?: Partial<BackoffOptions>;
  /** 0 disables stall detection. */
  stallTimeoutMs?: number;
  /** 0 disables pings. */
  pingIntervalMs?: number;
  closeTimeoutMs?: number;
  logger?: Logger;
  /** Every timer (backoff, stall, ping, close) runs on this: tests pass a virtual-time scheduler. */
  scheduler?: SchedulerLike;
  /** Jitter's random source, [0, 1). */
  random?: () => number;
}

/**
 * The one WebSocket to ComfyUI, shared by everything in the process. `start()` opens it; it
 * reconnects with backoff whenever it drops or stalls, and ends only on `close()`.
 */
export class ComfyConnection {
  /** Hot: every decoded frame, from all sockets in turn. Completes after close(). */
  readonly events$: Observable<ComfyEvent>;
  /** Replays the current state. */
  readonly state$: Observable<ConnectionState>;
  /** `queue_remaining` of the latest status message, replayed. */
  readonly queueRemaining$: Observable<number>;
  /** Emits the number of attempts it took, after each successful RE-connect (not the first open). */
  readonly reconnected$: Observable<number>;
  /** The server's feature_flags reply, replayed. */
  readonly serverFeatures$: Observable<Record<string, unknown>>;
  /** The WebSocket URL, password redacted (for messages). */
  readonly url: string;

  private readonly states = new ReplaySubject<ConnectionState>(1);
  private currentState: ConnectionState = 'connecting';
  private readonly queueRemaining = new ReplaySubject<number>(1);
  private readonly reconnects = new Subject<number>();
  private readonly features = new ReplaySubject<Record<string, unknown>>(1);
  private readonly closeRequest = new ReplaySubject<void>(1);
  private readonly hub: Connectable<ComfyEvent>;
  private readonly backoff: BackoffOptions;
  private readonly logger: Logger;
  private readonly scheduler: SchedulerLike;
  private readonly random: () => number;
  private connection: Subscription | undefined;
  /** The Subject events$ subscribers attach to, and the latest socket: read by counts() only. */
  private eventHub: Subject<ComfyEvent> | undefined;
  private socket: WebSocketLike | undefined;
  private readonly frameWarnings: FrameWarnings;
  private closing = false;
  private everOpened = false;
  /** retry() numbers the attempts; we keep the last number for reconnected$ and the last delay for decorrelated jitter. */
  private lastAttempt = 0;
  private lastDelayMs: number | undefined;

  constructor(options: ConnectionOptions) {
    const wsUrl = socketUrl(options.baseUrl, options.clientId);
    this.url = redactUrl(wsUrl);
    this.backoff = resolveBackoff(options.backoff);
    this.logger = options.logger ?? createLogger('warn');
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.random = options.random ?? Math.random;
    // One line per bad frame would let a misbehaving server flood the log: counted per interval instead.
    this.frameWarnings = frameWarnings(this.logger, this.scheduler);
    const report: FrameReporter = this.frameWarnings.report;

    const pipeline$ = defer(() =>
      this.closing
        ? EMPTY
        : socketSession({
            url: wsUrl,
            headers: { ...options.headers },
            factory: options.webSocketFactory ?? defaultWebSocketFactory,
            stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
            pingIntervalMs: options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
            closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
            scheduler: this.scheduler,
            closeRequest$: this.closeRequest,
            report,
            onSocket: (socket) => (this.socket = socket),
          }),
    ).pipe(
      tap((signal) => this.onSignal(signal)),
      // A session errors only when its socket dropped or stalled; a clean close completes it.
      // resetOnSuccess: the `open` signal restarts the backoff from its first delay.
      retry({ count: this.backoff.maxAttempts, resetOnSuccess: true, delay: (error, attempt) => this.retryAfter(error, attempt) }),
      // Gave up: the context says after how many attempts in a row (since the socket was last open),
      // so whoever loses its jobs to this can say so.
      catchError((error: unknown) =>
        throwError(() => new ComfyUnreachableError(redactUrl(options.baseUrl), {
          cause: error,
          context: { socketUrl: this.url, attempts: this.lastAttempt + (this.everOpened ? 0 : 1), reconnecting: this.everOpened },
        })),
      ),
      tap({ complete: () => this.finish(), error: (error: Error) => this.finish(error) }),
      filter((signal): signal is Extract<SocketSignal, { kind: 'event' }> => signal.kind === 'event'),
      map((signal) => signal.event),
    );
    // Hot and shared: subscribers attach to one Subject; only start() opens the socket.
    this.hub = connectable(pipeline$, { connector: () => (this.eventHub = new Subject<ComfyEvent>()), resetOnDisconnect: false });
    this.events$ = this.hub;
    this.state$ = this.states.asObservable();
    this.queueRemaining$ = this.queueRemaining.asObservable();
    this.reconnected$ = this.reconnects.asObservable();
    this.serverFeatures$ = this.features.asObservable();
    this.states.next(this.currentState);
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  counts(): ConnectionCounts {
    // Subject.observers is RxJS's own list of live subscribers (deprecated for writing to, not for a count).
    const subscribers = (subject: Subject<unknown> | undefined) => subject?.observers.length ?? 0;
    const socket = this.socket;
    return {
      eventSubscribers: subscribers(this.eventHub as Subject<unknown> | undefined),
      stateSubscribers: [this.states, this.queueRemaining, this.reconnects, this.features].reduce((n, s) => n + subscribers(s as Subject<unknown>), 0),
      socketListeners: socket?.listenerCount ? SOCKET_EVENTS.reduce((n, event) => n + socket.listenerCount!(event), 0) : undefined,
    };
  }

  /** Opens the socket; a second call does nothing. */
  start(): void {
    this.connection ??= this.hub.connect();
  }

  /** Closes the socket cleanly (no reconnect) and resolves once every stream has completed. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.closeRequest.next();
      this.closeRequest.complete();
      this.start(); // never started: run the (now empty) pipeline so the streams still complete
    }
    await firstValueFrom(this.states.pipe(filter((state) => state === 'closed')));
  }

  private onSignal(signal: SocketSignal): void {
    if (signal.kind === 'open') {
      const isReconnect = this.everOpened;
      this.everOpened = true;
      this.setState('open');
      if (isReconnect) {
        this.logger.info(`Reconnected to the ComfyUI WebSocket at ${this.url} (attempt ${this.lastAttempt})`);
        this.reconnects.next(this.lastAttempt);
      } else {
        this.logger.info(`Connected to the ComfyUI WebSocket at ${this.url}`);
      }
      this.lastAttempt = 0;
      this.lastDelayMs = undefined;
      return;
    }
    const { event } = signal;
    if (event.type === 'status') this.queueRemaining.next(event.data.status.exec_info.queue_remaining);
    else if (event.type === 'feature_flags') this.features.next(event.data);
  }

  /** The delay notifier for retry(): backoff, then try again, unless close() comes first. */
  private retryAfter(error: unknown, attempt: number): Observable<unknown> {
    const delayMs = backoffDelay(attempt - 1, this.backoff, this.random, attempt === 1 ? undefined : this.lastDelayMs);
    this.lastAttempt = attempt;
    this.lastDelayMs = delayMs;
    this.setState('reconnecting');
    const why = error instanceof Error ? error.message : String(error);
    // ws reports a refused upgrade as "Unexpected server response: 401": a proxy wants credentials.
    const hint = /response: (401|403)\b/.test(why)
      ? 'A proxy in front of ComfyUI refused the credentials: check the COMFYUI_AUTH_* settings.'
      : 'Is ComfyUI running there, and does the URL (scheme, host, port, path) match?';
    this.logger.warn(
      this.everOpened
        ? `Lost the ComfyUI WebSocket at ${this.url} (${why}); reconnecting in ${delayMs} ms (attempt ${attempt}).`
        : `Cannot connect to the ComfyUI WebSocket at ${this.url} (${why}); retrying in ${delayMs} ms (attempt ${attempt}). ${hint}`,
    );
    // Completing without a value (close() during the wait) makes retry() complete: no reconnect.
    return timer(delayMs, this.scheduler).pipe(takeUntil(this.closeRequest));
  }

  private finish(error?: Error): void {
    this.frameWarnings.stop();
    if (error) this.logger.error(`Gave up on the ComfyUI WebSocket at ${this.url}: ${error.message}`);
    this.setState('closed');
    this.states.complete();
    this.queueRemaining.complete();
    this.reconnects.complete();
    this.features.complete();
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.states.next(state);
  }
}
