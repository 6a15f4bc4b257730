import { BehaviorSubject, type Observable, type Subscription } from 'rxjs';
import type { ApiPrompt } from '../src/comfy/types.js';
import { ComfywireError } from '../src/errors.js';
import type { ComfyEvent } from './messages.js';
import type { PromptRouter } from './prompt-router.js';
import { RecentJobs } from './recent-jobs.js';
import {
  FINISHED,
  initialJobState,
  promptContext,
  reduceJob,
  type JobState,
  type PromptContext,
} from './job-state.js';

/**
 * Tracks the prompts this process submitted. Each job folds its routed events into a JobState
 * (see job-state.ts) and publishes every change on `changes$`. At the end of the run the `settle`
 * hook (the engine's: history fallback + downloads) finishes the state, then the job moves to the
 * capped recent-jobs store and its subscriptions end.
 */

export interface TrackOptions {
  prompt?: ApiPrompt;
  workflow?: string;
}

export type SettleHook = (state: JobState, ctx: PromptContext) => Promise<JobState>;

export interface JobTrackerOptions {
  router: PromptRouter;
  recentLimit: number;
  settle?: SettleHook;
  now?: () => number;
}

const CHECK_LATER = 'The job may still be running in ComfyUI: check it with get_workflow_status once ComfyUI is reachable.';
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

export class TrackedJob {
  readonly promptId: string;
  readonly ctx: PromptContext;
  readonly done: Promise<JobState>;
  private readonly subject: BehaviorSubject<JobState>;
  private subscription: Subscription | undefined;
  private resolveDone!: (state: JobState) => void;
  private settling = false;

  constructor(
    promptId: string,
    options: TrackOptions,
    private readonly tracker: JobTracker,
  ) {
    this.promptId = promptId;
    this.ctx = promptContext(options.prompt);
    this.subject = new BehaviorSubject(initialJobState(promptId, tracker.now(), options.workflow));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get state(): JobState {
    return this.subject.value;
  }

  /** Every state from the current one on; completes once the job is settled. */
  get states$(): Observable<JobState> {
    return this.subject.asObservable();
  }

  get finished(): boolean {
    return FINISHED.has(this.state.status);
  }

  /** @internal */
  attach(events$: Observable<ComfyEvent>): void {
    this.subscription = events$.subscribe({
      next: (event) => this.apply(event),
      // A dropped socket does not end the route (the connection reconnects and resyncs); an error
      // does: the connection gave up, nothing more will come, so the job ends here.
      error: (err: unknown) => void this.lose(gaveUpReason(err)),
      // The route completes at the end of the run, or early when the router stopped (shutting down).
      complete: () => void (this.tracker.routerEnded ? this.lose(STOPPED_LISTENING) : this.settle()),
    });
  }

  apply(event: ComfyEvent): void {
    const next = reduceJob(this.state, event, this.ctx, this.tracker.now());
    if (next !== this.state) this.subject.next(next);
  }

  /** Replace the state (resync, queue position, downloads). Ignored once the job is settled. */
  update(fn: (state: JobState) => JobState): void {
    if (this.subject.closed || this.subject.isStopped) return;
    const next = fn(this.state);
    if (next !== this.state) this.subject.next(next);
  }

  /** @internal stop listening without settling (used when a submission failed); `done` still resolves. */
  abandon(): void {
    if (this.settling) return;
    this.subscription?.unsubscribe();
    this.settling = true;
    const final: JobState = { ...this.state, status: 'lost', lostReason: NOT_SUBMITTED, endedAt: this.tracker.now(), settled: true, queuePosition: undefined, currentNode: undefined };
    this.subject.next(final);
    this.subject.complete();
    this.resolveDone(final);
  }

  /** End an unfinished job as lost with the reason, then settle it. */
  private lose(reason: string): Promise<void> {
    this.update((s) => (FINISHED.has(s.status) ? s : { ...s, status: 'lost', lostReason: reason, endedAt: this.tracker.now(), queuePosition: undefined }));
    return this.settle();
  }

  /** End the job: history fallback and downloads through the hook, then hand over to the recent store. */
  async settle(): Promise<void> {
    if (this.settling) return;
    this.settling = true;
    this.subscription?.unsubscribe();
    this.tracker.release(this.promptId);
    let final = this.state;
    try {
      final = await this.tracker.settleHook(final, this.ctx);
    } catch (err) {
      final = { ...final, downloadErrors: [...final.downloadErrors, String((err as Error)?.message ?? err)] };
    }
    // The hook could not tell how the run ended either (or failed): never leave it queued or running.
    if (!FINISHED.has(final.status)) final = { ...final, status: 'lost', lostReason: NO_OUTCOME, endedAt: final.endedAt ?? this.tracker.now(), queuePosition: undefined };
    final = { ...final, settled: true, currentNode: undefined };
    this.subject.next(final);
    this.subject.complete();
    this.tracker.retire(final);
    this.resolveDone(final);
  }
}

export class JobTracker {
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly recentJobs: RecentJobs;
  readonly now: () => number;
  readonly settleHook: SettleHook;

  constructor(private readonly options: JobTrackerOptions) {
    this.recentJobs = new RecentJobs(options.recentLimit);
    this.now = options.now ?? Date.now;
    this.settleHook = options.settle ?? (async (s) => s);
  }

  /** Start tracking a prompt. Call before POSTing it: a cached run can finish before the reply. */
  track(promptId: string, options: TrackOptions = {}): TrackedJob {
    const existing = this.jobs.get(promptId);
    if (existing) return existing;
    const job = new TrackedJob(promptId, options, this);
    this.jobs.set(promptId, job);
    job.attach(this.options.router.route(promptId));
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

  get activeCount(): number {
    return this.jobs.size;
  }

  /** Forget a job that never reached ComfyUI (its submission failed): no history, no recent entry. */
  discard(promptId: string): void {
    const job = this.jobs.get(promptId);
    if (!job) return;
    this.jobs.delete(promptId);
    // Abandon first: releasing the route completes it, which would otherwise settle the job.
    job.abandon();
    this.options.router.release(promptId);
  }

  /** @internal no event will be routed any more (shutting down, or the connection gave up) */
  get routerEnded(): boolean {
    return this.options.router.ended;
  }

  /** @internal the job stops receiving routed events */
  release(promptId: string): void {
    this.options.router.release(promptId);
  }

  /** @internal the settled job leaves the active set */
  retire(state: JobState): void {
    this.jobs.delete(state.promptId);
    this.recentJobs.add(state);
  }

  /** Settle every active job as lost (the engine is shutting down or ComfyUI forgot them). */
  async loseAll(reason: string): Promise<void> {
    await Promise.all(
      this.activeJobs().map((job) => {
        job.update((s) => ({ ...s, status: 'lost', lostReason: reason, endedAt: this.now() }));
        return job.settle();
      }),
    );
  }
}
