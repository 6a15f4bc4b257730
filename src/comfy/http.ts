import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { getGlobalDispatcher, request, type Dispatcher, type FormData } from 'undici';
import { CancelledError, ComfyBadResponseError, ComfyUnreachableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { CONNECTION_CODES, NOT_RETRIED_CODES, statusError, transportError, type TransportContext } from './http-errors.js';

/**
 * The one place that talks HTTP to ComfyUI: per-request timeout joined with the caller's
 * AbortSignal, auth headers on every request, retries for idempotent GETs only. Failures become
 * comfywire errors in http-errors.ts.
 */

/** Retries after the first attempt, for GETs that failed to connect. */
export const RETRY_MAX_RETRIES = 2;
/** Delay before the first retry; later ones grow by RETRY_FACTOR up to RETRY_MAX_DELAY_MS. */
export const RETRY_MIN_DELAY_MS = 250;
export const RETRY_FACTOR = 2;
export const RETRY_MAX_DELAY_MS = 2_000;

export interface RetryPolicy {
  retries: number;
  minDelayMs: number;
  factor: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  retries: RETRY_MAX_RETRIES,
  minDelayMs: RETRY_MIN_DELAY_MS,
  factor: RETRY_FACTOR,
  maxDelayMs: RETRY_MAX_DELAY_MS,
});

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Route path such as `/prompt`; appended to the base URL, which may carry a proxy prefix. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal | undefined;
  /** Non-2xx statuses the caller handles itself (e.g. 400 on /prompt, 404 for "absent"). */
  allowStatus?: readonly number[];
  /** Deadline for this request instead of the client's (routes known to be slow or large). */
  timeoutMs?: number;
}

export interface HttpOptions {
  baseUrl: string;
  headers: Record<string, string>;
  timeoutMs: number;
  retry?: Partial<RetryPolicy> | undefined;
  logger?: Logger | undefined;
  dispatcher?: Dispatcher | undefined;
}

export class ComfyHttp {
  readonly baseUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly dispatcher: Dispatcher | undefined;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger | undefined;

  constructor(options: HttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = Object.freeze({ ...options.headers });
    this.timeoutMs = options.timeoutMs;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.logger = options.logger;
    this.dispatcher = options.dispatcher;
  }

  /**
   * Sockets open to ComfyUI in the dispatcher's pool for this origin (undici's Agent stats), or
   * undefined when the dispatcher keeps none (another kind of dispatcher). Diagnostics only.
   */
  openConnections(): number | undefined {
    const dispatcher = (this.dispatcher ?? getGlobalDispatcher()) as { stats?: Record<string, { connected?: number }> };
    const origin = new URL(this.baseUrl).origin;
    const stats = dispatcher.stats;
    if (stats === undefined) return undefined;
    return stats[origin]?.connected ?? 0;
  }

  url(path: string, query?: HttpRequest['query']): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.append(k, String(v));
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Sends the request; resolves with status and body text for 2xx and allowed statuses. */
  send(req: HttpRequest): Promise<{ status: number; text: string }> {
    const url = this.url(req.path, req.query);
    return this.withRetry(req, url, () => this.once(req, url));
  }

  /**
   * A GET whose 2xx body the caller streams. No total deadline (a large file may take minutes):
   * the timeout applies to the wait for headers and to each silence between body chunks.
   */
  stream(req: HttpRequest): Promise<{ status: number; body: Readable; headers: Record<string, string | string[] | undefined> }> {
    const url = this.url(req.path, req.query);
    return this.withRetry(req, url, async () => {
      const ctx: TransportContext = { url, timeoutMs: this.timeoutMs, callerSignal: req.signal };
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: req.method,
          headers: { ...this.headers },
          signal: req.signal ?? null,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          dispatcher: this.dispatcher,
        });
      } catch (error) {
        throw transportError(error, ctx);
      }
      if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, body: res.body, headers: res.headers };
      const text = await res.body.text().catch(() => '');
      if (req.allowStatus?.includes(res.statusCode)) return { status: res.statusCode, body: Readable.from([text]), headers: res.headers };
      throw statusError(req.method, url, res.statusCode, text);
    });
  }

  /** Retries connection failures of GETs only: a POST may have reached ComfyUI before the socket broke. */
  private async withRetry<T>(req: HttpRequest, url: string, attemptOnce: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await attemptOnce();
      } catch (error) {
        // transportError put the low-level code (ECONNREFUSED...) into context.reason.
        const code = error instanceof ComfyUnreachableError ? String(error.context['reason']) : undefined;
        const retryable =
          req.method === 'GET' && !req.signal?.aborted && attempt < this.retry.retries &&
          code !== undefined && CONNECTION_CODES.has(code) && !NOT_RETRIED_CODES.has(code);
        if (!retryable) throw error;
        const delay = Math.min(this.retry.maxDelayMs, this.retry.minDelayMs * this.retry.factor ** attempt);
        this.logger?.debug('comfy http retry', { url, attempt: attempt + 1, delay, code });
        await sleep(delay, undefined, req.signal ? { signal: req.signal } : undefined).catch((cause: unknown) => {
          throw new CancelledError(`The request to ${url} was cancelled.`, { cause, context: { url } });
        });
      }
    }
  }

  private async once(req: HttpRequest, url: string): Promise<{ status: number; text: string }> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const deadline = requestDeadline(timeoutMs);
    const timeoutSignal = deadline.signal;
    const signal = req.signal ? AbortSignal.any([req.signal, timeoutSignal]) : timeoutSignal;
    const ctx: TransportContext = { url, timeoutMs, callerSignal: req.signal, timeoutSignal };
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers };
    let body: string | FormData | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.form) {
      body = req.form; // undici writes the multipart boundary header itself
    }
    let status: number;
    let text: string;
    try {
      // headersTimeout/bodyTimeout 0: the deadline above is the only one. undici's own defaults
      // (300 s) would otherwise cut a longer COMFYWIRE_REQUEST_TIMEOUT_MS short.
      const res = await request(url, {
        method: req.method, headers, body, signal, dispatcher: this.dispatcher, headersTimeout: 0, bodyTimeout: 0,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (error) {
      throw transportError(error, ctx);
    } finally {
      deadline.clear();
    }
    this.logger?.debug('comfy http', { method: req.method, url, status });
    if ((status >= 200 && status < 300) || req.allowStatus?.includes(status)) return { status, text };
    throw statusError(req.method, url, status, text);
  }

  /** JSON body of a 2xx (or allowed) answer. */
  async json(req: HttpRequest): Promise<{ status: number; body: unknown }> {
    const { status, text } = await this.send(req);
    return { status, body: this.parseJson(req, status, text) };
  }

  parseJson(req: HttpRequest, status: number, text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new ComfyBadResponseError(
        `${req.method} ${req.path} answered HTTP ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
        { cause, context: { url: this.url(req.path, req.query), status } },
      );
    }
  }
}

/**
 * The whole-request deadline (headers and body). Not AbortSignal.timeout: that one runs on Node's
 * internal timers, which no test clock can move, so a 30 s limit could only be tested in 30 real
 * seconds. setTimeout is the timer every other limit uses; unref'd like AbortSignal.timeout's,
 * so a pending request alone does not keep the process alive.
 */
function requestDeadline(timeoutMs: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`The operation was aborted due to timeout`, 'TimeoutError')),
    timeoutMs,
  );
  timer.unref?.();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
