import { NEVER, interval, map, startWith, switchMap, tap, ignoreElements, timer, type Observable, type SchedulerLike } from 'rxjs';

/** A socket that showed no sign of life (frame, pong, open) for the stall timeout. */
export class SocketStalledError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`no frame and no pong from ComfyUI for ${timeoutMs} ms`);
    this.name = 'SocketStalledError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Errors with SocketStalledError once `activity$` has been silent for `timeoutMs`; each activity
 * restarts the clock (switchMap drops the old timer). The clock starts on subscribe, so a handshake
 * that never completes is caught too. `timeoutMs <= 0` (or not finite) disables the watch.
 */
export function stallWatch(activity$: Observable<unknown>, timeoutMs: number, scheduler: SchedulerLike): Observable<never> {
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return NEVER;
  return activity$.pipe(
    startWith(undefined),
    switchMap(() => timer(timeoutMs, scheduler)),
    map((): never => {
      throw new SocketStalledError(timeoutMs);
    }),
  );
}

/**
 * Calls `ping()` every `intervalMs` so that an idle but healthy server keeps answering (its pongs
 * count as activity). ComfyUI sends no heartbeats of its own but answers pings (protocol §3.1).
 * Sockets without `ping` (browser-style, mock-socket) get no keep-alive: the stall watch then
 * relies on frames alone.
 */
export function keepAlive(ping: (() => void) | undefined, intervalMs: number, scheduler: SchedulerLike): Observable<never> {
  if (!ping || !(intervalMs > 0) || !Number.isFinite(intervalMs)) return NEVER;
  return interval(intervalMs, scheduler).pipe(
    tap(() => {
      // A ping on a socket that is closing can throw; the close event will end the session anyway.
      try {
        ping();
      } catch {
        /* ignored on purpose */
      }
    }),
    ignoreElements(),
  );
}
