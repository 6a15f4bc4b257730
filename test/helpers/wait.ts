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
