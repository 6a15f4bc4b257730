import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import {
  BACKOFF_INITIAL_DELAY_MS, BACKOFF_MAX_DELAY_MS, DEFAULT_BACKOFF, backoffDelay, nominalDelay, type BackoffOptions,
} from '../../streams/backoff.js';
import { ComfyConnection, type WebSocketLike } from '../../streams/connection.js';
import { silentLogger } from '../../src/logger.js';

/**
 * The reconnect backoff at its real defaults (500 ms, x2, capped at 30 s, never gives up) over an
 * outage of an hour, on jest's fake timers against mock-socket: the delays grow to the cap and stay
 * there (attempts keep coming every 30 s at most, jitter inside its bounds), a successful open
 * starts again from 500 ms, and a finite maxAttempts gives up after exactly that many retries.
 */

const S = 1_000;
const HOUR = 3_600 * S;
const CAP = BACKOFF_MAX_DELAY_MS;
/** mock-socket reports a refused connection 4 ms after the dial. */
const REFUSAL_MS = 4;

describe('the delay formula around the cap', () => {
  const none: BackoffOptions = { ...DEFAULT_BACKOFF, jitter: 'none' };

  it('doubles from 500 ms; the last delay below the cap is 16 s, the next is held at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => nominalDelay(n, none))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(nominalDelay(6, none)).toBe(CAP); // 32 s nominal, capped
    expect(BACKOFF_INITIAL_DELAY_MS * 2 ** 6).toBeGreaterThan(CAP);
  });

  it('stays at the cap however many attempts (no overflow to Infinity or NaN)', () => {
    for (const n of [7, 100, 1_100, 10_000, Number.MAX_SAFE_INTEGER]) expect(nominalDelay(n, none)).toBe(CAP);
    for (const r of [0, 0.5, 0.999_999]) expect(backoffDelay(10_000, DEFAULT_BACKOFF, () => r)).toBeLessThanOrEqual(CAP);
    expect(backoffDelay(10_000, DEFAULT_BACKOFF, () => 0.999_999)).toBe(CAP);
  });
});

interface Outage {
  conn: ComfyConnection;
  server: Server;
  dialed: number[];
  accept: { value: boolean };
  /** When the socket's drop reached the connection: the first backoff wait starts here. */
  droppedAt: number;
}

let nextPort = 18_700;
let current: Outage | undefined;

/** A connection with the default backoff (jitter and random as given) to a server that refuses. */
async function outage(options: { jitter?: BackoffOptions['jitter']; random?: () => number; maxAttempts?: number } = {}): Promise<Outage> {
  jest.useFakeTimers();
  const port = nextPort++;
  const accept = { value: true };
  const server = new Server(`ws://localhost:${port}/ws`, { mock: false, verifyClient: () => accept.value });
  const dialed: number[] = [];
  const conn = new ComfyConnection({
    baseUrl: `http://localhost:${port}`,
    clientId: 'backoff',
    logger: silentLogger(),
    stallTimeoutMs: 0,
    backoff: {
      ...(options.jitter ? { jitter: options.jitter } : {}),
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    },
    ...(options.random ? { random: options.random } : {}),
    webSocketFactory: (url) => {
      dialed.push(Date.now());
      return new MockWebSocket(url) as unknown as WebSocketLike;
    },
  });
  conn.events$.subscribe({ error: () => undefined });
  conn.start();
  await jest.advanceTimersByTimeAsync(10);
  expect(conn.state).toBe('open');
  let droppedAt = 0;
  conn.state$.subscribe((state) => {
    if (state === 'reconnecting' && !droppedAt) droppedAt = Date.now();
  });
  accept.value = false;
  server.clients()[0]!.close({ code: 1006, reason: 'ComfyUI went away', wasClean: false });
  await jest.advanceTimersByTimeAsync(REFUSAL_MS + 1);
  expect(conn.state).toBe('reconnecting');
  current = { conn, server, dialed, accept, droppedAt };
  return current;
}

/** Waits between the end of one failed attempt and the next dial. */
const waits = (dialed: number[], droppedAt: number) =>
  dialed.slice(1).map((t, i) => t - (i === 0 ? droppedAt : dialed[i]! + REFUSAL_MS));

/** A seeded PRNG (mulberry32): the jitter is random but the test is repeatable. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

afterEach(async () => {
  if (current) {
    const closing = current.conn.close();
    await jest.advanceTimersByTimeAsync(5 * S);
    await closing;
    current.server.stop();
    current = undefined;
  }
  jest.useRealTimers();
});

describe('a 1-hour outage', () => {
  it('without jitter: 0.5, 1, 2, 4, 8, 16 s, then every 30 s for the rest of the hour', async () => {
    const o = await outage({ jitter: 'none' });
    await jest.advanceTimersByTimeAsync(HOUR);
    const gaps = waits(o.dialed, o.droppedAt);
    expect(gaps.slice(0, 7)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, CAP]);
    expect(new Set(gaps.slice(6))).toEqual(new Set([CAP]));
    // Attempts keep coming: about 120 in the hour, the last one less than 30 s ago.
    const expected = 6 + Math.floor((HOUR - 31_500) / (CAP + REFUSAL_MS));
    expect(o.dialed.length - 1).toBe(expected);
    expect(Date.now() - o.dialed.at(-1)!).toBeLessThanOrEqual(CAP + REFUSAL_MS);
    expect(o.conn.state).toBe('reconnecting');
  });

  it('with the default full jitter: every wait within [0, nominal], never above 30 s, and they really vary', async () => {
    const o = await outage({ random: seeded(42) });
    await jest.advanceTimersByTimeAsync(HOUR);
    const gaps = waits(o.dialed, o.droppedAt);
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(0);
      expect(gap).toBeLessThanOrEqual(nominalDelay(i, DEFAULT_BACKOFF));
    });
    const capped = gaps.slice(6);
    expect(Math.max(...capped)).toBeLessThanOrEqual(CAP);
    // Uniform on [0, 30 s]: the mean is near 15 s (so more attempts than without jitter) and the spread is real.
    const mean = capped.reduce((a, b) => a + b, 0) / capped.length;
    expect(mean).toBeGreaterThan(12 * S);
    expect(mean).toBeLessThan(18 * S);
    expect(Math.max(...capped) - Math.min(...capped)).toBeGreaterThan(20 * S);
    expect(o.dialed.length).toBeGreaterThan(200);
    expect(Date.now() - o.dialed.at(-1)!).toBeLessThanOrEqual(CAP + REFUSAL_MS);
  });

  it('after an hour at the cap, one successful open resets the backoff: the next drop waits 500 ms, not 30 s', async () => {
    const o = await outage({ jitter: 'none' });
    const reconnects: number[] = [];
    o.conn.reconnected$.subscribe((n) => reconnects.push(n));
    await jest.advanceTimersByTimeAsync(HOUR);
    o.accept.value = true;
    await jest.advanceTimersByTimeAsync(CAP + 10);
    expect(o.conn.state).toBe('open');
    expect(reconnects).toHaveLength(1);
    expect(reconnects[0]).toBeGreaterThan(100); // the attempt count of the hour

    const before = o.dialed.length;
    o.server.clients().at(-1)!.close({ code: 1006, reason: 'again', wasClean: false });
    await jest.advanceTimersByTimeAsync(REFUSAL_MS + 500 - 1);
    expect(o.dialed).toHaveLength(before); // 1 ms short of the initial delay
    await jest.advanceTimersByTimeAsync(1);
    expect(o.dialed).toHaveLength(before + 1);
    await jest.advanceTimersByTimeAsync(10);
    expect(o.conn.state).toBe('open');
    expect(reconnects).toEqual([reconnects[0], 1]);
  });
});

describe('maxAttempts', () => {
  it('5 attempts: the 5th retry is still made; when it fails the connection gives up, and nothing more is dialed', async () => {
    const o = await outage({ jitter: 'none', maxAttempts: 5 });
    let failure: unknown;
    o.conn.events$.subscribe({ error: (e) => (failure = e) });
    const until = (ms: number) => jest.advanceTimersByTimeAsync(o.droppedAt + ms - Date.now());
    // Four retries fail (0.5 + 1 + 2 + 4 s, each refused after 4 ms): still trying.
    const fifthRetryAt = 500 + 1_000 + 2_000 + 4_000 + 8_000 + 4 * REFUSAL_MS;
    await until(fifthRetryAt - 8_000);
    expect(o.dialed).toHaveLength(1 + 4);
    expect(o.conn.state).toBe('reconnecting');
    // 1 ms before the 5th retry: still waiting for it.
    await until(fifthRetryAt - 1);
    expect(o.dialed).toHaveLength(1 + 4);
    await jest.advanceTimersByTimeAsync(1);
    expect(o.dialed).toHaveLength(1 + 5);
    expect(o.conn.state).toBe('reconnecting');
    // The 5th retry is refused: given up, with the typed error.
    await jest.advanceTimersByTimeAsync(REFUSAL_MS + 1);
    expect(o.conn.state).toBe('closed');
    expect(failure).toMatchObject({ name: 'ComfyUnreachableError', code: 'COMFY_UNREACHABLE' });
    await jest.advanceTimersByTimeAsync(HOUR);
    expect(o.dialed).toHaveLength(1 + 5);
  });
});
