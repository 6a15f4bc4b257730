import { jest } from '@jest/globals';
// undici's internal timer module (the same instance the client code loads: one registry per test file).
// @ts-expect-error: internal CommonJS file without types
import undiciTimers from 'undici/lib/util/timers.js';

/**
 * A clock the test controls, for real components talking over real loopback sockets.
 *
 * Jest's modern fake timers replace setTimeout/setInterval/Date (and so RxJS's async scheduler),
 * which puts every time limit of comfywire and the simulator's step delays on the test's clock.
 * Socket I/O stays real, so time must not run ahead of it: `advance` moves the clock in small
 * steps and gives the event loop real turns between them (a frame needs a couple of poll phases
 * to cross loopback). Work that needs no timer at all (a download, an MCP reply) is best awaited
 * with the clock standing still: `advanceUntil` stops as soon as its condition holds.
 *
 * setImmediate, nextTick and queueMicrotask stay real: Node's streams and sockets need them.
 *
 * undici runs its headers/body/keep-alive timeouts on one shared 500 ms ticker, created by the first
 * timer and then only refresh()ed: after the clock changes (the next test's useFakeClock, or
 * useRealClock) it would stay on the old, dead clock, and undici's timeouts would never fire again
 * in that file. Both switches therefore reset undici's timers, so the next ticker is made on the
 * clock now in use.
 */

// Captured before any test fakes them: the real ones let real I/O through.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const performanceNow = performance.now.bind(performance);

export const FAKE_EPOCH = Date.UTC(2026, 0, 1, 12, 0, 0);

export function useFakeClock(now = FAKE_EPOCH): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now });
  undiciTimers.reset();
}

export function useRealClock(): void {
  jest.useRealTimers();
  undiciTimers.reset();
}

/** A short real pause: lets pending socket reads, writes and thread-pool work complete. */
export function realPause(ms = 2): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

export interface AdvanceOptions {
  /** Fake milliseconds per step (default 500). Smaller steps follow I/O more closely. */
  stepMs?: number;
  /** Real milliseconds of pause between steps (default 2). */
  pauseMs?: number;
}

/** Move the fake clock forward by `ms`, step by step, with real I/O between the steps. */
export async function advance(ms: number, options: AdvanceOptions = {}): Promise<void> {
  const step = options.stepMs ?? 500;
  for (let left = ms; left > 0; left -= step) {
    await jest.advanceTimersByTimeAsync(Math.min(step, left));
    await realPause(options.pauseMs);
  }
}

/**
 * Move the fake clock forward until `check` holds, and return the fake time that took. Fails
 * once `maxMs` of fake time has passed without it. Checked before each step, so a condition
 * already true costs no time.
 */
export async function advanceUntil(check: () => boolean | Promise<boolean>, maxMs: number, options: AdvanceOptions = {}): Promise<number> {
  const step = options.stepMs ?? 500;
  const start = Date.now();
  for (;;) {
    // Real I/O first: the condition may be one socket read away.
    await realPause(options.pauseMs);
    if (await check()) return Date.now() - start;
    if (Date.now() - start >= maxMs) throw new Error(`condition not met within ${maxMs} ms of fake time`);
    await jest.advanceTimersByTimeAsync(step);
  }
}

/**
 * Wait for a promise with the clock standing still (for work that needs no timer), failing after
 * `realMs` of real time so a stuck test says so instead of hanging.
 */
export async function settleReal<T>(promise: Promise<T>, realMs = 15_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = realSetTimeout(() => reject(new Error(`not settled within ${realMs} ms of real time`)), realMs);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    realClearTimeout(timer);
  }
}

/** Wait in real time, the clock standing still, until `check` holds (work that needs no timer). */
export async function untilReal(check: () => boolean | Promise<boolean>, realMs = 15_000): Promise<void> {
  const end = performanceNow() + realMs;
  while (!(await check())) {
    if (performanceNow() > end) throw new Error(`condition not met within ${realMs} ms of real time`);
    await realPause(5);
  }
}


/**
 * Close what a fake-clock test started (an engine, a simulator): their close handshakes have
 * timers, so the clock moves in small steps until they are closed, then the real clock is back.
 */
export async function closeOnFakeClock(...closing: Array<Promise<unknown> | undefined>): Promise<void> {
  const all = Promise.all(closing);
  let closed = false;
  void all.then(() => (closed = true), () => (closed = true));
  await advanceUntil(() => closed, 60_000, { stepMs: 100 }).catch(() => undefined);
  useRealClock();
  await all;
}
