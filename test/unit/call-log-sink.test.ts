import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import winston from 'winston';
import { BatchSink, SINK_BATCH_SIZE, SINK_CAPACITY, SINK_FLUSH_INTERVAL_MS, type BatchWriter } from '../../src/call-log/batch-sink.js';
import { callRecord, type CallRecord } from '../../src/call-log/record.js';
import { useFakeClock, useRealClock } from '../helpers/fake-clock.js';

/**
 * The database sink's write path on a fake clock, against a writer the test can make fail or
 * hang: the flush interval and batch size on both sides, retries with backoff, the bounded
 * buffer (oldest dropped and counted, reported once the database answers), and the bound on the
 * last flush at shutdown. `write` never throws and never waits.
 */

class FakeWriter implements BatchWriter {
  batches: CallRecord[][] = [];
  attempts = 0;
  down = false;
  hang = false;
  async write(records: readonly CallRecord[]): Promise<void> {
    this.attempts += 1;
    if (this.hang) return new Promise<void>(() => undefined);
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    this.batches.push([...records]);
  }
  async close(): Promise<void> {}
  get ids(): string[] {
    return this.batches.flat().map((r) => r.id);
  }
}

function logCapture() {
  const lines: string[] = [];
  const logger = winston.createLogger({ level: 'debug', transports: [new winston.transports.Console({ silent: true })] });
  logger.on('data', (info: { level: string; message: string }) => lines.push(`${info.level}: ${info.message}`));
  return { logger, lines };
}

const line = (i: number) => callRecord({ tool: 'get_queue', status: 'success', durationMs: i });
/** Lets the sink's promise chains run (no timer involved). */
const turn = () => jest.advanceTimersByTimeAsync(0);

let writer: FakeWriter;
let log: ReturnType<typeof logCapture>;
let lost: number[];
let sink: BatchSink;

beforeEach(() => {
  useFakeClock();
  writer = new FakeWriter();
  log = logCapture();
  lost = [];
  // random() = 0: decorrelated jitter gives its lower bound, the 500 ms initial delay, every time.
  sink = new BatchSink({ writer, logger: log.logger, name: 'PostgreSQL', random: () => 0, onLost: (n) => lost.push(n) });
});

afterEach(() => useRealClock());

describe('flushing', () => {
  it('holds fewer than a batch until the interval: nothing at 999 ms, all at 1,000 ms', async () => {
    expect(SINK_FLUSH_INTERVAL_MS).toBe(1_000);
    for (let i = 0; i < SINK_BATCH_SIZE - 1; i++) sink.write(line(i));
    await jest.advanceTimersByTimeAsync(SINK_FLUSH_INTERVAL_MS - 1);
    expect(writer.attempts).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(writer.batches.map((b) => b.length)).toEqual([SINK_BATCH_SIZE - 1]);
  });

  it('writes a full batch of 100 at once, without waiting for the interval', async () => {
    expect(SINK_BATCH_SIZE).toBe(100);
    for (let i = 0; i < SINK_BATCH_SIZE; i++) sink.write(line(i));
    await turn();
    expect(writer.batches.map((b) => b.length)).toEqual([SINK_BATCH_SIZE]);
    expect(sink.status()).toMatchObject({ buffered: 0, written: SINK_BATCH_SIZE, lost: 0, failing: false });
  });

  it('keeps the order of the lines across batches', async () => {
    const records = Array.from({ length: 250 }, (_, i) => line(i));
    for (const r of records) sink.write(r);
    await jest.advanceTimersByTimeAsync(SINK_FLUSH_INTERVAL_MS);
    expect(writer.ids).toEqual(records.map((r) => r.id));
    expect(writer.batches.every((b) => b.length <= SINK_BATCH_SIZE)).toBe(true);
  });
});

describe('a database that is down', () => {
  it('never throws into the caller, and retries with backoff: not at 499 ms, at 500 ms, then later', async () => {
    writer.down = true;
    expect(() => sink.write(line(1))).not.toThrow();
    await jest.advanceTimersByTimeAsync(SINK_FLUSH_INTERVAL_MS);
    expect(writer.attempts).toBe(1);
    expect(sink.status()).toMatchObject({ failing: true, buffered: 1, lastError: 'connect ECONNREFUSED 127.0.0.1:5432' });
    expect(log.lines.filter((l) => l.includes('unreachable'))).toHaveLength(1);

    await jest.advanceTimersByTimeAsync(499);
    expect(writer.attempts).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(writer.attempts).toBe(2);
    // The next delay grows (decorrelated jitter never goes below the initial 500 ms).
    await jest.advanceTimersByTimeAsync(499);
    expect(writer.attempts).toBe(2);

    // Lines written meanwhile wait for the retry instead of knocking themselves.
    for (let i = 0; i < SINK_BATCH_SIZE * 2; i++) sink.write(line(i));
    await turn();
    expect(writer.attempts).toBe(2);

    writer.down = false;
    await jest.advanceTimersByTimeAsync(30_000);
    expect(writer.ids).toHaveLength(1 + SINK_BATCH_SIZE * 2);
    expect(new Set(writer.ids).size).toBe(writer.ids.length);
    expect(sink.status()).toMatchObject({ failing: false, buffered: 0, lost: 0 });
    expect(log.lines.some((l) => l.startsWith('info: ') && l.includes('answers again'))).toBe(true);
    expect(lost).toEqual([]);
  });

  it('keeps the newest 1,000 lines, drops and counts the oldest, and reports the count when it answers again', async () => {
    expect(SINK_CAPACITY).toBe(1_000);
    writer.down = true;
    const records = Array.from({ length: SINK_CAPACITY + 250 }, (_, i) => line(i));
    for (const r of records) sink.write(r);
    await turn();
    expect(sink.status()).toMatchObject({ buffered: SINK_CAPACITY, lost: 250 });
    expect(log.lines.filter((l) => l.includes('buffer full'))).toHaveLength(1);
    // Not reported yet: the count is told once, when the database answers again.
    expect(lost).toEqual([]);

    writer.down = false;
    await jest.advanceTimersByTimeAsync(30_000);
    expect(writer.ids).toEqual(records.slice(250).map((r) => r.id));
    expect(lost).toEqual([250]);
    expect(log.lines.filter((l) => l.startsWith('warn: ') && l.includes('250 line(s) were lost'))).toHaveLength(1);
  });

  it('reports lines dropped before any write failed (the first batch still out) once the batch lands', async () => {
    const small = new BatchSink({ writer, logger: log.logger, name: 'PostgreSQL', capacity: 5, random: () => 0, onLost: (n) => lost.push(n) });
    let release!: () => void;
    const write = writer.write.bind(writer);
    writer.write = (records) => new Promise<void>((resolve) => (release = resolve)).then(() => write(records));
    for (let i = 0; i < 5; i++) small.write(line(i));
    await jest.advanceTimersByTimeAsync(SINK_FLUSH_INTERVAL_MS); // the first batch is out, unanswered
    for (let i = 0; i < 8; i++) small.write(line(i));
    expect(small.status()).toMatchObject({ lost: 3, failing: false });
    expect(lost).toEqual([]);
    writer.write = write;
    release();
    await jest.advanceTimersByTimeAsync(SINK_FLUSH_INTERVAL_MS);
    expect(lost).toEqual([3]);
    expect(log.lines.filter((l) => l.includes('3 line(s) were lost'))).toHaveLength(1);
  });
});

describe('close', () => {
  it('writes what is buffered at once, without waiting for the interval', async () => {
    for (let i = 0; i < 10; i++) sink.write(line(i));
    await sink.close(2_000);
    expect(writer.ids).toHaveLength(10);
    expect(lost).toEqual([]);
  });

  it('gives up after its bound, not before, and counts what it could not write', async () => {
    writer.hang = true;
    for (let i = 0; i < 10; i++) sink.write(line(i));
    let closed = false;
    void sink.close(2_000).then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(1_999);
    expect(closed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(closed).toBe(true);
    expect(lost).toEqual([10]);
    expect(sink.status().lost).toBe(10);
    expect(log.lines.some((l) => l.includes('10 line(s) not written to PostgreSQL before exit'))).toBe(true);
  });

  it('counts a line written after close as lost instead of throwing', async () => {
    await sink.close(100);
    expect(() => sink.write(line(1))).not.toThrow();
    expect(sink.status().lost).toBe(1);
  });
});
