import { firstValueFrom, from, fromEvent, map, race, timer, type Observable } from 'rxjs';
import type { JobState } from '../../../streams/job-state.js';

/**
 * A bounded wait for a job. A render can outlast a client's call timeout, so running past the
 * bound is a normal outcome (the caller returns a handle), and so is either signal firing.
 * The bound runs on RxJS's async scheduler (the global timers), which the fake-clock tests move.
 */

export type WaitOutcome =
  | { kind: 'done'; state: JobState }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | { kind: 'shutdown' };

export interface WaitSignals {
  /** The tool call's own signal: the client cancelled the request. */
  request: AbortSignal;
  /** The server is shutting down: stop waiting, leave the job to ComfyUI (src/mcp/shutdown.ts, fanned out). */
  shutdown$: Observable<void>;
}

/** `timeoutMs` undefined: no bound (the job always ends: success, failure, interrupt or lost). */
export function waitForJob(done: Promise<JobState>, timeoutMs: number | undefined, signals: WaitSignals): Promise<WaitOutcome> {
  if (signals.request.aborted) return Promise.resolve({ kind: 'cancelled' });
  const outcomes: Array<Observable<WaitOutcome>> = [
    from(done).pipe(map((state) => ({ kind: 'done' as const, state }))),
    fromEvent(signals.request, 'abort').pipe(map(() => ({ kind: 'cancelled' as const }))),
    signals.shutdown$.pipe(map(() => ({ kind: 'shutdown' as const }))),
  ];
  if (timeoutMs !== undefined) outcomes.push(timer(timeoutMs).pipe(map(() => ({ kind: 'timeout' as const }))));
  // The first outcome wins; race unsubscribes the others (listeners removed, timer cleared).
  return firstValueFrom(race(outcomes));
}
