import { defer, fromEvent, map, of, share, take, type Observable } from 'rxjs';

/**
 * The server's shutdown signal, fanned out. An AbortSignal warns (MaxListenersExceededWarning)
 * once more than 10 listeners sit on it, and every waiting generate_image call used to add one:
 * 40 concurrent calls set it off. Per-call code subscribes here instead; however many calls wait,
 * the signal carries one listener, removed when the last of them stops waiting.
 */
export function shutdownFanOut(closing: AbortSignal): Observable<void> {
  const shared = fromEvent(closing, 'abort').pipe(
    take(1),
    map(() => undefined),
    share(),
  );
  // An abort event is not replayed: a call that starts after shutdown hears of it at once.
  return defer(() => (closing.aborted ? of(undefined) : shared));
}

/**
 * Runs `work` with an AbortSignal of its own that aborts when the server shuts down (for APIs that
 * take a signal, such as a download); the link to the shutdown is dropped when `work` settles.
 */
export async function withShutdownSignal<T>(shutdown$: Observable<void>, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const link = shutdown$.subscribe(() => controller.abort());
  try {
    return await work(controller.signal);
  } finally {
    link.unsubscribe();
  }
}
