/** Waiting helpers for tests that watch live systems (polls are bounded, never open-ended). */

/** Resolves with the first value the probe returns that is not undefined. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves once the check holds. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  await eventually(async () => ((await check()) ? true : undefined), timeoutMs, everyMs);
}

/** The promise's value, or 'timeout' when it takes longer than `ms` (so a test can fail clearly). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);
}

/**
 * The promise's value, or a rejection that names what did not happen within `ms`. The timer is
 * cleared either way, so a passing wait leaves nothing behind.
 */
export async function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Anything with on/off listeners: a socket, a child's stdout, a ws peer, an EventEmitter. */
export interface Emitter {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * Resolves once `check` holds, tested now and again at each `event` the emitter emits (no
 * polling: nothing runs between events, and the listener is gone once it settles). Listeners
 * added before this one run first, so state they update is current when `check` runs.
 * `failOn` names events (e.g. a child's 'close') that mean it never will: they reject at once.
 */
export function whenTrue(
  emitter: Emitter,
  event: string,
  check: () => boolean,
  ms: number,
  what: string,
  failOn: { emitter: Emitter; event: string } | undefined = undefined,
): Promise<void> {
  if (check()) return Promise.resolve();
  let listener: () => void = () => undefined;
  let failed: () => void = () => undefined;
  const met = new Promise<void>((resolve, reject) => {
    listener = () => {
      if (check()) resolve();
    };
    failed = () => reject(new Error(`${what}: ${failOn!.event} came first`));
    emitter.on(event, listener);
    failOn?.emitter.on(failOn.event, failed);
  });
  return deadline(met, ms, what).finally(() => {
    emitter.off(event, listener);
    failOn?.emitter.off(failOn.event, failed);
  });
}
