/** Sleep that an AbortSignal can cut short; used for per-step delays. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Python's int(time.time() * 1000), the `timestamp` of execution_* messages. */
export function nowMs(): number {
  return Date.now();
}
