import { backoffDelay, resolveBackoff, type BackoffOptions } from '../../streams/backoff.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CallRecord } from './record.js';

/**
 * The write path to a database that may be down: `write` only appends to a bounded in-memory
 * buffer and returns, so a tool call never waits on (or fails because of) the database. Batches
 * leave the buffer every `flushIntervalMs`, or at once when `batchSize` lines are waiting; a
 * failed batch goes back to the front and is retried with exponential backoff. When the buffer
 * is full the oldest line is dropped and counted; the count is logged when the database answers
 * again, and handed to `onLost` (which keeps it for `comfywire doctor`).
 */

/** Where batches go; `write` must be idempotent per record id (a retry after a lost ack re-sends). */
export interface BatchWriter {
  write(records: readonly CallRecord[]): Promise<void>;
  close(): Promise<void>;
}

export const SINK_CAPACITY = 1_000;
export const SINK_BATCH_SIZE = 100;
export const SINK_FLUSH_INTERVAL_MS = 1_000;
/** Retries of an unreachable database: 500 ms growing to 30 s, never below 500 ms (decorrelated jitter). */
export const SINK_BACKOFF: Partial<BackoffOptions> = { initialDelayMs: 500, maxDelayMs: 30_000, jitter: 'decorrelated' };

export interface BatchSinkOptions {
  writer: BatchWriter;
  logger: Logger;
  /** Names the database in log lines ("PostgreSQL"). */
  name: string;
  capacity?: number;
  batchSize?: number;
  flushIntervalMs?: number;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  /** Lines that will never reach the database (dropped from a full buffer, or unwritten at close). */
  onLost?: (count: number) => void;
}

export interface SinkStatus {
  buffered: number;
  written: number;
  /** Lines lost since the process started. */
  lost: number;
  failing: boolean;
  lastError?: string;
}

export class BatchSink {
  private readonly writer: BatchWriter;
  private readonly logger: Logger;
  private readonly name: string;
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly onLost: (count: number) => void;

  private buffer: CallRecord[] = [];
  private inFlight = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private previousDelay: number | undefined;
  private failing = false;
  private closed = false;
  private written = 0;
  private lost = 0;
  /** Lost since the database last answered: the figure of the next "back" line. */
  private lostWhileDown = 0;
  private lastError: string | undefined;

  constructor(options: BatchSinkOptions) {
    this.writer = options.writer;
    this.logger = options.logger;
    this.name = options.name;
    this.capacity = options.capacity ?? SINK_CAPACITY;
    this.batchSize = options.batchSize ?? SINK_BATCH_SIZE;
    this.flushIntervalMs = options.flushIntervalMs ?? SINK_FLUSH_INTERVAL_MS;
    this.backoff = resolveBackoff({ ...SINK_BACKOFF, ...options.backoff });
    this.random = options.random ?? Math.random;
    this.onLost = options.onLost ?? (() => undefined);
  }

  /** Never throws, never waits. */
  write(record: CallRecord): void {
    if (this.closed) {
      this.countLost(1);
      return;
    }
    // Bounds the waiting lines; a batch out on the wire (at most batchSize more) rejoins them if it fails.
    if (this.buffer.length >= this.capacity) {
      if (this.lostWhileDown === 0) this.logger.warn(`call log: ${this.name} buffer full (${this.capacity} lines); dropping the oldest until it answers`);
      this.buffer.shift();
      this.lostWhileDown += 1;
      this.countLost(1, false);
    }
    this.buffer.push(record);
    if (this.failing) return; // the retry timer is armed
    if (this.buffer.length >= this.batchSize) this.flushSoon(0);
    else this.flushSoon(this.flushIntervalMs);
  }

  status(): SinkStatus {
    const s: SinkStatus = { buffered: this.buffer.length + this.inFlight, written: this.written, lost: this.lost, failing: this.failing };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  /** One last attempt at what is buffered, within `boundMs`; what is left then is counted lost. */
  async close(boundMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    let bound: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (bound = setTimeout(resolve, boundMs)));
    const last = (async () => {
      await this.flushing;
      this.failing = false; // one more try, whatever the backoff said
      if (this.buffer.length) await this.flush();
    })();
    await Promise.race([last, expired]);
    const left = this.buffer.length + this.inFlight;
    this.buffer = [];
    if (left) {
      this.logger.warn(`call log: ${left} line(s) not written to ${this.name} before exit${this.lastError ? ` (${this.lastError})` : ''}`);
      this.lost += left;
    }
    if (left + this.lostWhileDown) this.onLost(left + this.lostWhileDown);
    await Promise.race([this.writer.close().catch(() => undefined), expired]);
    clearTimeout(bound);
  }

  private countLost(n: number, report = true): void {
    this.lost += n;
    if (report) this.onLost(n);
  }

  private flushSoon(delayMs: number): void {
    if (this.flushing) return; // the running flush drains the buffer
    if (this.timer && delayMs > 0) return; // already armed, at the interval or a retry
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Writes batch after batch until the buffer is empty or the database fails. */
  private flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.splice(0, this.batchSize);
      this.inFlight = batch.length;
      try {
        await this.writer.write(batch);
      } catch (error) {
        this.inFlight = 0;
        this.buffer.unshift(...batch);
        this.failed(error);
        return;
      }
      this.inFlight = 0;
      this.written += batch.length;
      // Lines may have been dropped before any write failed (a burst while the first batch hung).
      if (this.failing || this.lostWhileDown) this.recovered();
    }
  }

  private failed(error: unknown): void {
    this.lastError = describeError(error).split('\n')[0]!.slice(0, 300);
    // Lines that arrived while the batch was out may have pushed the total past the bound.
    const excess = this.buffer.length - this.capacity;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.lostWhileDown += excess;
      this.countLost(excess, false);
    }
    if (!this.failing) this.logger.warn(`call log: ${this.name} unreachable (${this.lastError}); buffering up to ${this.capacity} lines and retrying`);
    this.failing = true;
    if (this.closed) return;
    const delay = backoffDelay(this.attempt, this.backoff, this.random, this.previousDelay);
    this.previousDelay = delay;
    this.attempt += 1;
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
    this.timer.unref?.();
  }

  private recovered(): void {
    this.failing = false;
    this.attempt = 0;
    this.previousDelay = undefined;
    if (this.lostWhileDown) {
      this.logger.warn(`call log: ${this.name} answers again; ${this.lostWhileDown} line(s) were lost while it was unreachable or slow (buffer full)`);
      this.onLost(this.lostWhileDown);
      this.lostWhileDown = 0;
    } else {
      this.logger.info(`call log: ${this.name} answers again; the buffered lines are written`);
    }
  }
}
