import { randomUUID } from 'node:crypto';
import {
  EMPTY, Subject, catchError, defer, filter, firstValueFrom, from, map, merge, race, retry, tap, throttle, timer,
  type Observable, type Subscription,
} from 'rxjs';
import type { Config } from './config.js';
import { authHeaders } from './config.js';
import { ComfyClient } from './comfy/client.js';
import type { ApiPrompt, ObjectInfo } from './comfy/types.js';
import { ComfyUnreachableError, PromptRejectedError, describeError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { ComfyConnection, type WebSocketFactory } from '../streams/connection.js';
import type { BackoffOptions } from '../streams/backoff.js';
import { PromptRouter } from '../streams/prompt-router.js';
import { nodeRef } from '../streams/job-state.js';
import { JobTracker, type TrackedJob } from '../streams/job-tracker.js';
import { resyncJobs } from '../streams/resync.js';
import { settleJob } from './jobs/settle.js';
import { refreshQueuePositions } from './jobs/queue-positions.js';

/**
 * The engine wires one HTTP client, one shared socket, the router and the job tracker for the
 * whole process. Everything user-facing (CLI `generate`, the MCP tools, `tail`) goes through it.
 */

export interface EngineOptions {
  config: Readonly<Config>;
  logger?: Logger;
  webSocketFactory?: WebSocketFactory;
  /** Reconnect policy of the socket; by default it never gives up (a long-running server must outlive ComfyUI restarts). */
  backoff?: Partial<BackoffOptions>;
}

export interface SubmitOptions {
  workflow?: string;
  front?: boolean;
  /** Download the outputs when the job succeeds (default true). */
  download?: boolean;
  signal?: AbortSignal;
}

export type CancelOutcome = 'dequeued' | 'interrupted' | 'already_finished' | 'unknown';

/** Long enough to serve a burst of generations, short enough to see a newly installed model. */
export const OBJECT_INFO_TTL_MS = 60_000;
/** A resync that fails (ComfyUI still starting, a proxy hiccup) is tried again, backing off to this. */
export const RESYNC_RETRIES = 8;
export const RESYNC_RETRY_DELAY_MS = 250;
export const RESYNC_RETRY_MAX_DELAY_MS = 5_000;

/** The wait before resync retry number `attempt` (1-based): 0.25, 0.5, 1, 2, 4, then 5 s. */
export function resyncRetryDelay(attempt: number): number {
  return Math.min(RESYNC_RETRY_MAX_DELAY_MS, RESYNC_RETRY_DELAY_MS * 2 ** (attempt - 1));
}

export class Engine {
  readonly config: Readonly<Config>;
  readonly client: ComfyClient;
  readonly connection: ComfyConnection;
  readonly router: PromptRouter;
  readonly jobs: JobTracker;
  private readonly logger: Logger;
  private readonly noDownload = new Set<string>();
  /** Jobs our own cancel() is taking out of the queue: their disappearance is expected. */
  private readonly cancelling = new Set<string>();
  /** Asks for a queue refresh outside ComfyUI's status broadcasts (after a submission). */
  private readonly queueCheck = new Subject<void>();
  /** Asks for a resync outside reconnected$ (a reconnect happened while a POST was in flight). */
  private readonly resyncCheck = new Subject<void>();
  /** Counts socket re-opens, so a submission can tell whether one happened during its POST. */
  private reconnects = 0;
  private readonly subscriptions: Subscription[] = [];
  private started = false;
  /** answeredAt is undefined while the request is in flight. */
  private objectInfoCache: { answeredAt: number | undefined; value: Promise<ObjectInfo> } | undefined;

  constructor(options: EngineOptions) {
    this.config = options.config;
    this.logger = options.logger ?? silentLogger();
    const { config } = options;
    this.client = new ComfyClient({
      baseUrl: config.comfyUrl,
      auth: config.auth,
      clientId: config.clientId,
      requestTimeoutMs: config.requestTimeoutMs,
      logger: this.logger,
    });
    this.connection = new ComfyConnection({
      baseUrl: config.comfyUrl,
      clientId: config.clientId,
      headers: authHeaders(config.auth),
      stallTimeoutMs: config.stallTimeoutMs,
      pingIntervalMs: config.pingIntervalMs,
      logger: this.logger,
      ...(options.webSocketFactory ? { webSocketFactory: options.webSocketFactory } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    this.router = new PromptRouter(this.connection.events$);
    this.jobs = new JobTracker({
      router: this.router,
      recentLimit: config.recentJobs,
      settle: (state, ctx) =>
        settleJob(state, ctx, {
          client: this.client,
          outputDir: this.config.outputDir,
          logger: this.logger,
          download: !this.noDownload.delete(state.promptId),
        }),
    });
  }

  start(): this {
    if (this.started) return this;
    this.started = true;
    this.connection.start();
    this.subscriptions.push(this.connection.reconnected$.subscribe(() => this.reconnects++));
    // On reconnect ComfyUI tells the submitter which node is running with a bare
    // `executing {node}` (no prompt_id). Only one prompt runs at a time: if it is ours, say so.
    this.subscriptions.push(
      this.connection.events$.subscribe({
        next: (event) => {
          if (event.type !== 'executing' || event.data.prompt_id !== undefined || event.data.node === null) return;
          const node = event.data.node;
          const running = this.jobs.activeJobs().find((j) => j.state.status === 'running');
          running?.update((s) => ({ ...s, currentNode: nodeRef(running.ctx, node) }));
        },
        // The connection gave up (it logged why, and the jobs end as lost through their routes);
        // an unhandled RxJS error would take the whole process down with it.
        error: () => undefined,
      }),
    );
    this.subscriptions.push(
      // Events missed while the socket was down are never replayed: every reconnect must be
      // followed by a resync that succeeds. A reconnect during a resync earns one more afterwards
      // (its gap may hold events the running one already looked past), and a failed resync is
      // tried again: otherwise a job that finished during the outage would wait forever.
      merge(this.connection.reconnected$, this.resyncCheck)
        .pipe(throttle(() => this.resync(), { leading: true, trailing: true }))
        .subscribe(),
      // Queue positions change whenever ComfyUI broadcasts a status; refresh them only while one
      // of our jobs is waiting. A status that arrives during a refresh earns one more refresh
      // afterwards (a deletion must not be missed), but refreshes never stack beyond that.
      merge(this.connection.queueRemaining$, this.queueCheck)
        .pipe(
          filter(() => this.jobs.activeJobs().some((j) => j.state.status === 'queued' && j.state.queueNumber !== undefined)),
          throttle(() => from(refreshQueuePositions(this.jobs, this.client, this.cancelling)).pipe(catchError(() => EMPTY)), {
            leading: true,
            trailing: true,
          }),
        )
        .subscribe(),
    );
    return this;
  }

  private resync(): Observable<unknown> {
    return defer(() => resyncJobs(this.jobs, this.client)).pipe(
      retry({
        count: RESYNC_RETRIES,
        delay: (err: unknown, attempt) => {
          this.logger.warn(`resync after reconnect failed (attempt ${attempt}): ${describeError(err)}; trying again`);
          return timer(resyncRetryDelay(attempt));
        },
      }),
      tap((r) => {
        if (r.reattached.length + r.completed.length + r.lost.length > 0)
          this.logger.info(
            `resynced after reconnect: ${r.reattached.length} re-attached, ${r.completed.length} completed from history, ${r.lost.length} lost`,
          );
      }),
      catchError((err: unknown) => {
        this.logger.warn(`resync after reconnect failed for good: ${describeError(err)}; jobs resync at the next reconnect`);
        return EMPTY;
      }),
    );
  }

  /**
   * ComfyUI's /object_info, cached briefly: the real server scans its model folders to answer,
   * which takes seconds on a large install, and every generation validates against it.
   * The TTL counts from the answer, and callers share a request in flight: an install slow enough
   * to answer after more than the TTL would otherwise get a new scan started by every caller.
   */
  objectInfo(): Promise<ObjectInfo> {
    const cache = this.objectInfoCache;
    if (cache && (cache.answeredAt === undefined || Date.now() - cache.answeredAt <= OBJECT_INFO_TTL_MS)) return cache.value;
    const entry: { answeredAt: number | undefined; value: Promise<ObjectInfo> } = { answeredAt: undefined, value: this.client.getObjectInfo() };
    this.objectInfoCache = entry;
    entry.value.then(
      () => (entry.answeredAt = Date.now()),
      () => {
        if (this.objectInfoCache === entry) this.objectInfoCache = undefined;
      },
    );
    return entry.value;
  }

  /** Resolves once the socket is open; rejects with ComfyUnreachableError after `timeoutMs`. */
  async waitUntilOpen(timeoutMs = this.config.requestTimeoutMs): Promise<void> {
    if (this.connection.state === 'open') return;
    // An HTTP probe turns "the socket will not open" into the precise reason at once:
    // ComfyUnreachableError (nothing listens) or ComfyAuthRefusedError (a proxy said 401/403).
    await this.client.getPromptCounter();
    // A closed connection never opens again (close() ran, or it gave up reconnecting): say so
    // instead of waiting out the timeout or failing with RxJS's bare "no elements in sequence".
    const settled = this.connection.state$.pipe(filter((s) => s === 'open' || s === 'closed'));
    const outcome = await firstValueFrom(race(settled, timer(timeoutMs).pipe(map(() => 'timeout' as const))), {
      defaultValue: 'closed' as const,
    });
    if (outcome === 'open') return;
    throw new ComfyUnreachableError(this.config.comfyUrl, {
      context: {
        reason:
          outcome === 'timeout'
            ? `the WebSocket did not open within ${timeoutMs} ms`
            : 'the connection to its WebSocket is closed (comfywire is shutting down, or it gave up reconnecting)',
      },
    });
  }

  /**
   * Track, then submit: the prompt id is ours, so the route exists before ComfyUI can send a
   * single event (a fully cached prompt can finish before the HTTP reply arrives).
   */
  async submit(prompt: ApiPrompt, options: SubmitOptions = {}): Promise<TrackedJob> {
    this.start();
    await this.waitUntilOpen();
    const promptId = randomUUID();
    const job = this.jobs.track(promptId, { prompt, ...(options.workflow ? { workflow: options.workflow } : {}) });
    if (options.download === false) this.noDownload.add(promptId);
    let reply: Awaited<ReturnType<ComfyClient['submitPrompt']>>;
    const reconnectsBefore = this.reconnects;
    try {
      reply = await this.client.submitPrompt(prompt, {
        promptId,
        ...(options.front ? { front: true } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      this.jobs.discard(promptId);
      // Aborted mid-POST: ComfyUI may have queued it anyway. The id is ours, so take it back.
      if (options.signal?.aborted) void this.cancel(promptId).catch(() => undefined);
      throw err;
    }
    if (reply.nodeErrors.length > 0) {
      // ComfyUI accepted the prompt but dropped the outputs that failed validation. A half-run is
      // not what was asked for: take it back and report the problems as a rejection.
      // Forget the job first, so the withdrawal does not show up as a 'cancelled' job of ours.
      this.jobs.discard(promptId);
      await this.cancel(promptId).catch(() => undefined);
      throw new PromptRejectedError(
        'partial_rejection',
        'ComfyUI rejected part of the workflow: some outputs failed validation, so the prompt was withdrawn.',
        reply.nodeErrors,
        { hint: 'Fix the inputs listed below and submit again.', context: { promptId } },
      );
    }
    job.update((s) => ({ ...s, queueNumber: reply.number }));
    // ComfyUI broadcasts the enqueue status before it answers the POST, so that status found no
    // queued job of ours with a number yet: look up the position now.
    this.queueCheck.next();
    // A resync skips a prompt whose POST has not answered yet; if the socket dropped meanwhile,
    // this one's events may have fallen into the gap, so resync again now that it has a number.
    if (this.reconnects !== reconnectsBefore) this.resyncCheck.next();
    return job;
  }

  /** Interrupt a running prompt or take a pending one out of the queue. */
  async cancel(promptId: string): Promise<CancelOutcome> {
    const job = this.jobs.active(promptId);
    if (!job && this.jobs.get(promptId)) return 'already_finished';
    const queue = await this.client.getQueue();
    if (queue.pending.some((item) => item.promptId === promptId)) {
      this.cancelling.add(promptId);
      try {
        return await this.dequeue(promptId, job);
      } finally {
        this.cancelling.delete(promptId);
      }
    }
    return this.interruptIfRunning(promptId, job);
  }

  private async dequeue(promptId: string, job: TrackedJob | undefined): Promise<CancelOutcome> {
    await this.client.deleteFromQueue([promptId]);
    const after = await this.client.getQueue();
    // It may have started between the two calls: then it needs an interrupt after all.
    if (!after.running.some((item) => item.promptId === promptId)) {
      if (job) {
        job.update((s) => ({ ...s, status: 'cancelled', endedAt: Date.now(), queuePosition: undefined }));
        await job.settle();
      }
      return 'dequeued';
    }
    return this.interruptIfRunning(promptId, job);
  }

  private async interruptIfRunning(promptId: string, job: TrackedJob | undefined): Promise<CancelOutcome> {
    const nowRunning = await this.client.getQueue();
    if (nowRunning.running.some((item) => item.promptId === promptId)) {
      await this.client.interrupt(promptId);
      return 'interrupted';
    }
    if (job) return 'already_finished';
    return (await this.client.getHistory(promptId)) ? 'already_finished' : 'unknown';
  }

  async close(): Promise<void> {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    await this.jobs.loseAll('comfywire shut down before the job finished; it may still be running in ComfyUI.');
    this.router.close();
    await this.connection.close();
  }


}
