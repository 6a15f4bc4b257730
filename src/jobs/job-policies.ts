import { EMPTY, Subject, catchError, defer, filter, from, merge, retry, tap, throttle, timer, type Observable, type Subscription } from 'rxjs';
import type { ComfyClient } from '../comfy/client.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ComfyConnection } from '../../streams/connection.js';
import type { JobTracker } from '../../streams/job-tracker.js';
import { resyncJobs } from '../../streams/resync.js';
import { refreshQueuePositions } from './queue-positions.js';

/**
 * When the engine looks at ComfyUI on its own, for the jobs in flight: a resync after every
 * reconnect, a queue refresh on ComfyUI's status broadcasts, and the bare `executing` ComfyUI
 * sends on reconnect. Each of them only emits facts into the jobs.
 */

/** A resync that fails (ComfyUI still starting, a proxy hiccup) is tried again, backing off to this. */
export const RESYNC_RETRIES = 8;
export const RESYNC_RETRY_DELAY_MS = 250;
export const RESYNC_RETRY_MAX_DELAY_MS = 5_000;

/** The wait before resync retry number `attempt` (1-based): 0.25, 0.5, 1, 2, 4, then 5 s. */
export function resyncRetryDelay(attempt: number): number {
  return Math.min(RESYNC_RETRY_MAX_DELAY_MS, RESYNC_RETRY_DELAY_MS * 2 ** (attempt - 1));
}

export interface JobPolicyDeps {
  connection: Pick<ComfyConnection, 'events$' | 'reconnected$' | 'queueRemaining$'>;
  tracker: JobTracker;
  client: Pick<ComfyClient, 'getQueue' | 'getHistory'>;
  /** Jobs our own cancel is taking out of the queue: their disappearance is expected. */
  cancelling: ReadonlySet<string>;
  logger: Logger;
}

export class JobPolicies {
  /** Asks for a queue refresh outside ComfyUI's status broadcasts (after a submission). */
  private readonly queueCheck = new Subject<void>();
  /** Asks for a resync outside reconnected$ (a reconnect happened while a POST was in flight). */
  private readonly resyncCheck = new Subject<void>();

  constructor(private readonly deps: JobPolicyDeps) {}

  refreshQueue(): void {
    this.queueCheck.next();
  }

  resyncAgain(): void {
    this.resyncCheck.next();
  }

  start(): Subscription[] {
    const { connection, tracker, client, cancelling } = this.deps;
    return [
      // On reconnect ComfyUI tells the submitter which node is running with a bare
      // `executing {node}` (no prompt_id). Only one prompt runs at a time: if it is ours, tell it.
      connection.events$.subscribe({
        next: (event) => {
          if (event.type !== 'executing' || event.data.prompt_id !== undefined || event.data.node === null) return;
          tracker.activeJobs().find((j) => j.state.status === 'running')?.emit(event);
        },
        // The connection gave up (it logged why, and the jobs end as lost through their routes);
        // an unhandled RxJS error would take the whole process down with it.
        error: () => undefined,
      }),
      // Events missed while the socket was down are never replayed: every reconnect must be
      // followed by a resync that succeeds. A reconnect during a resync earns one more afterwards
      // (its gap may hold events the running one already looked past), and a failed resync is
      // tried again: otherwise a job that finished during the outage would wait forever.
      merge(connection.reconnected$, this.resyncCheck)
        .pipe(throttle(() => this.resync(), { leading: true, trailing: true }))
        .subscribe(),
      // Queue positions change whenever ComfyUI broadcasts a status; refresh them only while one
      // of our jobs is waiting. A status that arrives during a refresh earns one more refresh
      // afterwards (a deletion must not be missed), but refreshes never stack beyond that.
      merge(connection.queueRemaining$, this.queueCheck)
        .pipe(
          filter(() => tracker.activeJobs().some((j) => j.state.status === 'queued' && j.state.queueNumber !== undefined)),
          throttle(() => from(refreshQueuePositions(tracker.activeJobs(), client, cancelling)).pipe(catchError(() => EMPTY)), {
            leading: true,
            trailing: true,
          }),
        )
        .subscribe(),
    ];
  }

  private resync(): Observable<unknown> {
    const { tracker, client, logger } = this.deps;
    return defer(() => resyncJobs(tracker, client)).pipe(
      retry({
        count: RESYNC_RETRIES,
        delay: (err: unknown, attempt) => {
          logger.warn(`resync after reconnect failed (attempt ${attempt}): ${describeError(err)}; trying again`);
          return timer(resyncRetryDelay(attempt));
        },
      }),
      tap((r) => {
        if (r.reattached.length + r.completed.length + r.lost.length > 0)
          logger.info(
            `resynced after reconnect: ${r.reattached.length} re-attached, ${r.completed.length} completed from history, ${r.lost.length} lost`,
          );
      }),
      catchError((err: unknown) => {
        logger.warn(`resync after reconnect failed for good: ${describeError(err)}; jobs resync at the next reconnect`);
        return EMPTY;
      }),
    );
  }
}
