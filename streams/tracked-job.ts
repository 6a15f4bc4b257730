import { AsyncSubject, BehaviorSubject, type Observable, type Subscription } from 'rxjs';
import type { ApiPrompt } from '../src/comfy/types.js';
import type { JobFact } from './job-facts.js';
import type { ComfyEvent } from './messages.js';
import { FINISHED, initialJobState, promptContext, reduceJob, type JobPlacement, type JobState, type PromptContext } from './job-state.js';

/**
 * One job as a stream: its route (the socket's events, and how the route ended) merged with the
 * facts comfywire emits, scanned by the reducer, ended by the first settled state. The states
 * are shared with the current one replayed; `done` is the last. Policies (settle, resync, queue
 * refresh, cancel) never touch the state: they `emit` facts.
 *
 * The merge and the scan are written out as one function (`fold`) rather than as `merge`, `scan`,
 * `distinctUntilChanged` and `takeWhile`, and the milestones (`over$`, `done`) are signalled from
 * it rather than found by subscribers filtering every state: that machinery cost as much per
 * event as the reducer itself, and this is the hot path (every frame of every job; bench/routing.ts).
 */

/** A prompt's routed events, and the fact its end means: none at the end of run, `lost` otherwise. */
export interface JobRoute {
  events$: Observable<ComfyEvent>;
  endFact(error?: unknown): JobFact | undefined;
}

export interface TrackOptions extends JobPlacement {
  prompt?: ApiPrompt;
  workflow?: string;
  /** When the caller first asked (a re-dispatched job keeps its first submission time). */
  submittedAt?: number;
}

/** What callers hold of a job: its id, its states, its end. A TrackedJob, or a fleet job that may move hosts. */
export interface JobHandle {
  readonly promptId: string;
  /** Titles and classes of the prompt's nodes, for readable states. */
  readonly ctx: PromptContext;
  readonly states$: Observable<JobState>;
  readonly done: Promise<JobState>;
  readonly state: JobState;
  readonly finished: boolean;
}

export class TrackedJob implements JobHandle {
  readonly promptId: string;
  readonly ctx: PromptContext;
  /** Every state from the current one on; completes once the job is settled. */
  readonly states$: Observable<JobState>;
  readonly done: Promise<JobState>;
  /** The first state whose run is over (`endedBy` set): settling starts then. Emits once. */
  readonly over$: Observable<JobState>;
  private readonly over = new AsyncSubject<JobState>();
  private readonly subject: BehaviorSubject<JobState>;
  private readonly route: Subscription;
  private resolveDone!: (state: JobState) => void;

  constructor(promptId: string, options: TrackOptions, route: JobRoute, private readonly now: () => number) {
    this.promptId = promptId;
    this.ctx = promptContext(options.prompt);
    this.subject = new BehaviorSubject(initialJobState(promptId, options.submittedAt ?? now(), options.workflow, options));
    this.states$ = this.subject.asObservable();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.over$ = this.over.asObservable();
    const ended = (error?: unknown): void => {
      const fact = route.endFact(error);
      if (fact) this.fold(fact);
    };
    this.route = route.events$.subscribe({ next: (event) => this.fold(event), error: ended, complete: () => ended() });
  }

  get state(): JobState {
    return this.subject.value;
  }

  get finished(): boolean {
    return FINISHED.has(this.state.status);
  }

  /** Tell the job a fact learnt elsewhere than its route. Ignored once it is settled. */
  emit(fact: JobFact): void {
    this.fold(fact);
  }

  private fold(fact: JobFact): void {
    if (this.subject.isStopped) return;
    const state = this.subject.value;
    const next = reduceJob(state, fact, this.ctx, this.now());
    // The reducer returns the same object for a fact that changes nothing.
    if (next === state) return;
    this.subject.next(next);
    if (next.endedBy !== undefined && state.endedBy === undefined) {
      this.over.next(next);
      this.over.complete();
    }
    if (!next.settled) return;
    this.route?.unsubscribe();
    this.subject.complete();
    this.resolveDone(next);
  }
}
