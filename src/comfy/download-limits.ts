import { Transform, type TransformCallback } from 'node:stream';
import type { FileRef } from '../../streams/messages.js';
import { DownloadFailedError } from '../errors.js';

/**
 * The limits of one output file's download (config.limits: COMFYWIRE_DOWNLOAD_MAX_MB,
 * COMFYWIRE_DOWNLOAD_TIMEOUT_MS, COMFYWIRE_DOWNLOAD_MIN_KBPS). The idle limit between chunks is the
 * HTTP layer's (undici's bodyTimeout); these bound what a server that never stops sending, or sends
 * a byte a second, could otherwise make of a download: no end, or a full disk.
 */
export interface DownloadLimits {
  /** Largest file accepted; Infinity for none. */
  maxBytes: number;
  /** Deadline for the whole file, from the request to the last byte; Infinity for none. */
  timeoutMs: number;
  /** Least average throughput, checked once the file has been downloading THROUGHPUT_GRACE_MS; 0 for none. */
  minBytesPerS: number;
}

export const NO_DOWNLOAD_LIMITS: Readonly<DownloadLimits> = Object.freeze({ maxBytes: Infinity, timeoutMs: Infinity, minBytesPerS: 0 });

/** A download is judged on its average only after this long: a slow start (TCP, a busy ComfyUI) is normal. */
export const THROUGHPUT_GRACE_MS = 10_000;
/** How often the average is checked after the grace period. */
export const THROUGHPUT_CHECK_MS = 1_000;

const MIB = 1024 * 1024;
const n = (v: number): string => v.toLocaleString('en-US');
const mb = (bytes: number): string => `${n(Math.round((bytes / MIB) * 100) / 100)} MB`;

export function describeRef(ref: FileRef): string {
  return `${ref.type}/${ref.subfolder ? `${ref.subfolder}/` : ''}${ref.filename}`;
}

/** Content-Length said the file is over the cap: refused before a byte is written. */
export function declaredTooLarge(ref: FileRef, url: string, declared: number, maxBytes: number): DownloadFailedError {
  return new DownloadFailedError(
    `ComfyUI's file ${describeRef(ref)} is ${n(declared)} bytes, over the ${mb(maxBytes)} limit per file (COMFYWIRE_DOWNLOAD_MAX_MB); it was not downloaded.`,
    {
      hint: "Raise COMFYWIRE_DOWNLOAD_MAX_MB if files this large are expected, or take the file from ComfyUI's output folder directly.",
      context: { url, reason: 'too_large', maxBytes, contentLength: declared },
    },
  );
}

/**
 * Watches one download: the deadline, the average throughput and the byte count. The first limit
 * hit aborts `signal` and is kept as `failure`, the error the download reports. Timers are the
 * global ones (tests move them with a fake clock) and are cleared by `stop()`.
 */
export class DownloadGuard {
  readonly signal: AbortSignal;
  failure: DownloadFailedError | undefined;
  /** Bytes received over every try of this file (the throughput counts them all). */
  received = 0;
  /** Bytes of the current try's body (the size cap applies to one body). */
  private bodyBytes = 0;
  private readonly controller = new AbortController();
  private readonly startedAt = Date.now();
  private readonly timers: Array<ReturnType<typeof setTimeout>> = [];
  private readonly unlink: () => void;

  constructor(
    private readonly ref: FileRef,
    private readonly url: string,
    private readonly limits: DownloadLimits,
    caller: AbortSignal | undefined,
  ) {
    this.signal = this.controller.signal;
    // The caller's abort (a cancelled call, a closing engine) passes through; the listener goes at stop().
    const forward = (): void => this.controller.abort(caller?.reason);
    if (caller?.aborted) forward();
    caller?.addEventListener('abort', forward, { once: true });
    this.unlink = () => caller?.removeEventListener('abort', forward);
    if (Number.isFinite(limits.timeoutMs)) this.later(limits.timeoutMs, () => this.fail(this.deadline()));
    if (limits.minBytesPerS > 0) this.later(THROUGHPUT_GRACE_MS, () => this.checkThroughput());
  }

  /** A new response body begins (the first try, or a retry after a broken connection). */
  newAttempt(): void {
    this.bodyBytes = 0;
  }

  /** Counts the body's bytes on their way to disk; past the cap it fails the download. */
  counter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        this.received += chunk.length;
        this.bodyBytes += chunk.length;
        if (this.bodyBytes > this.limits.maxBytes) {
          const error = this.fail(this.streamedTooLarge());
          done(error);
          return;
        }
        done(null, chunk);
      },
    });
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.unlink();
  }

  private fail(error: DownloadFailedError): DownloadFailedError {
    this.failure ??= error;
    this.stop();
    this.controller.abort(this.failure);
    return this.failure;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref?.();
    this.timers.push(t);
  }

  private checkThroughput(): void {
    const elapsedMs = Date.now() - this.startedAt;
    const average = (this.received * 1000) / elapsedMs;
    if (average < this.limits.minBytesPerS) this.fail(this.tooSlow(elapsedMs, average));
    else this.later(THROUGHPUT_CHECK_MS, () => this.checkThroughput());
  }

  private deadline(): DownloadFailedError {
    return new DownloadFailedError(
      `Downloading ${describeRef(this.ref)} took longer than the ${n(this.limits.timeoutMs / 1000)} s limit per file ` +
        `(COMFYWIRE_DOWNLOAD_TIMEOUT_MS); stopped after ${n(this.received)} bytes. The partial file was removed.`,
      {
        hint: "ComfyUI or the network in between is very slow. Retry later, raise COMFYWIRE_DOWNLOAD_TIMEOUT_MS, or take the file from ComfyUI's output folder.",
        context: { url: this.url, reason: 'deadline', timeoutMs: this.limits.timeoutMs, bytesReceived: this.received },
      },
    );
  }

  private tooSlow(elapsedMs: number, average: number): DownloadFailedError {
    return new DownloadFailedError(
      `Downloading ${describeRef(this.ref)} was too slow: ${n(Math.round(average))} bytes/s on average over ${n(elapsedMs / 1000)} s, ` +
        `below the minimum of ${n(this.limits.minBytesPerS / 1024)} KiB/s (COMFYWIRE_DOWNLOAD_MIN_KBPS); stopped after ${n(this.received)} bytes. The partial file was removed.`,
      {
        hint: "ComfyUI or the network in between is trickling the file. Retry later, lower COMFYWIRE_DOWNLOAD_MIN_KBPS (0 turns the check off), or take the file from ComfyUI's output folder.",
        context: { url: this.url, reason: 'too_slow', minBytesPerS: this.limits.minBytesPerS, bytesReceived: this.received, elapsedMs },
      },
    );
  }

  private streamedTooLarge(): DownloadFailedError {
    return new DownloadFailedError(
      `ComfyUI sent more than the ${mb(this.limits.maxBytes)} limit per file (COMFYWIRE_DOWNLOAD_MAX_MB) for ${describeRef(this.ref)}; ` +
        `stopped after ${n(this.bodyBytes)} bytes. The partial file was removed.`,
      {
        hint: "Raise COMFYWIRE_DOWNLOAD_MAX_MB if files this large are expected, or take the file from ComfyUI's output folder directly.",
        context: { url: this.url, reason: 'too_large', maxBytes: this.limits.maxBytes, bytesReceived: this.bodyBytes },
      },
    );
  }
}
