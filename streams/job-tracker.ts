import { EMPTY, defer, type ObservableInput } from 'rxjs';
import { ComfywireError } from '../src/errors.js';
import { CHECK_LATER, lost, settleFailed, settled, type JobFact } from './job-facts.js';
import type { JobState, PromptContext } from './job-state.js';
import type { PromptRouter } from './prompt-router.js';
import { RecentJobs } from './recent-jobs.js';
import { TrackedJob, type JobRoute, type TrackOptions } from './tracked-job.js';

export { TrackedJob, type TrackOptions } from './tracked-job.js';

/**
 * The prompts this process submitted: each a TrackedJob fed by its route. Once a job's run is
 * over (`endedBy` set) the settle hook (the engine's: history when needed, downloads) turns into
 * facts, then `settled`; the settled job moves to the capped recent-jobs store.
 */

/** The facts that settle a job whose run is over; the tracker appends `settled`. */
export type SettleHook = (state: JobState, ctx: PromptContext) => ObservableInput<JobFact>;

export interface JobTrackerOptions {
  router: PromptRouter;
  recentLimit: number;
  settle?: SettleHook;
  now?: () => number;
}

const STOPPED_LISTENING = `comfywire stopped listening to ComfyUI (it is shutting down) before the job finished. ${CHECK_LATER}`;
const NOT_SUBMITTED = 'The submission did not go through (its error says why), so comfywire forgot the job.';
const NO_OUTCOME = `The run ended without reporting how it ended (its outcome message was not received) and nothing else could tell. ${CHECK_LATER}`;

/** Why a job was lost when its route failed: normally the connection gave up reconnecting. */
function gaveUpReason(err: unknown): string {
  const context = err instanceof ComfywireError ? err.context : {};
  if (typeof context.url === 'string' && typeof context.attempts === 'number') {
    const what = context.reconnecting === false ? 'connect' : 'reconnect';
    return `The connection to ComfyUI at ${context.url} gave up after ${context.attempts} failed attempts to ${what}, so the job could not be followed to its end. ${CHECK_LATER}`;
  }
  return `The event stream from ComfyUI failed (${err instanceof Error ? err.message : String(err)}), so the job could not be followed to its end. ${CHECK_LATER}`;
}

export class JobTracker {
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly recentJobs: RecentJobs;
  private readonly now: () => number;
  private readonly settleHook: SettleHook;

  constructor(private readonly options: JobTrackerOptions) {
    this.recentJobs = new RecentJobs(options.recentLimit);
    this.now = options.now ?? Date.now;
    this.settleHook = options.settle ?? (() => EMPTY);
  }

  /** Start tracking a prompt. Call before POSTing it: a cached run can finish before the reply. */
  track(promptId: string, options: TrackOptions = {}): TrackedJob {
    const existing = this.jobs.get(promptId);
    if (existing) return existing;
    const job = new TrackedJob(promptId, options, this.route(promptId), this.now);
    this.jobs.set(promptId, job);
    this.settleWhenOver(job);
    return job;
  }

  /** A job still in flight. */
  active(promptId: string): TrackedJob | undefined {
    return this.jobs.get(promptId);
  }

  /** Live state of an active job, or the final state of a recent one. */
  get(promptId: string): JobState | undefined {
    return this.jobs.get(promptId)?.state ?? this.recentJobs.get(promptId);
  }

  activeJobs(): TrackedJob[] {
    return [...this.jobs.values()];
  }

  recent(limit?: number): JobState[] {
    return this.recentJobs.list(limit);
  }

  /** Finished jobs kept (at most the recent limit). */
  get recentCount(): number {
    return this.recentJobs.size;
  }

  get activeCount(): number {
    return this.jobs.size;
  }

  /** Forget a job that never reached ComfyUI (its submission failed): no history, no recent entry. */
  discard(promptId: string): void {
    const job = this.jobs.get(promptId);
    if (!job) return;
    this.jobs.delete(promptId);
    job.emit(settled(NOT_SUBMITTED));
    this.options.router.release(promptId);
  }

  /** End every active job whose run is not over yet as lost (the engine is shutting down). */
  async loseAll(reason: string): Promise<void> {
    // Jobs already settling (downloading, say) finish on their own; they are not waited for.
    const jobs = this.activeJobs().filter((job) => job.state.endedBy === undefined);
    for (const job of jobs) job.emit(lost(reason));
    await Promise.all(jobs.map((job) => job.done));
  }

  /**
   * The route's events, and how it ended: normally right after the end of run (nothing to add);
   * early when the router stopped (shutting down); with an error when the connection gave up.
   */
  private route(promptId: string): JobRoute {
    const router = this.options.router;
    return {
      events$: router.route(promptId),
      endFact: (error?: unknown) =>
        error !== undefined ? lost(gaveUpReason(error)) : router.ended ? lost(STOPPED_LISTENING) : undefined,
    };
  }

  /**
   * Once the run is over: stop routing, turn the hook into facts, then `settled`. The settled job
   * retires to the recent store before anyone awaiting `done` resumes (its callback came first).
   */
  private settleWhenOver(job: TrackedJob): void {
    job.over$.subscribe((s) => {
      if (s.settled) return; // discarded
      this.options.router.release(job.promptId);
      const end = (): void => job.emit(settled(NO_OUTCOME));
      // A microtask later, as settling always was: the end of run's own delivery (the router, the
      // feed, the resource notifications) finishes before the job settles.
      void Promise.resolve().then(() =>
        defer(() => this.settleHook(s, job.ctx)).subscribe({
          next: (fact) => job.emit(fact),
          error: (err: unknown) => {
            job.emit(settleFailed(err));
            end();
          },
          complete: end,
        }),
      );
    });
    void job.done.then((final) => {
      if (this.jobs.get(job.promptId) !== job) return; // discarded
      this.jobs.delete(job.promptId);
      this.recentJobs.add(final);
    });
  }
}
