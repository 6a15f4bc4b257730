import { BehaviorSubject, Subject, distinctUntilChanged, lastValueFrom, merge, scan, takeWhile, type Observable } from 'rxjs';
import type { ApiPrompt } from '../src/comfy/types.js';
import type { JobFact } from './job-facts.js';
import { FINISHED, initialJobState, promptContext, reduceJob, type JobState, type PromptContext } from './job-state.js';

/**
 * One job as a stream: the merge of its route (the socket's events, and how the route ended) and
 * the facts comfywire emits, scanned by the reducer, ended by the first settled state. The states
 * are shared with the current one replayed; `done` is the last. Policies (settle, resync, queue
 * refresh, cancel) never touch the state: they `emit` facts.
 */

export interface TrackOptions {
  prompt?: ApiPrompt;
  workflow?: string;
}

export class TrackedJob {
  readonly promptId: string;
  readonly ctx: PromptContext;
  /** Every state from the current one on; completes once the job is settled. */
  readonly states$: Observable<JobState>;
  readonly done: Promise<JobState>;
  private readonly facts = new Subject<JobFact>();
  private readonly subject: BehaviorSubject<JobState>;

  constructor(promptId: string, options: TrackOptions, route$: Observable<JobFact>, now: () => number) {
    this.promptId = promptId;
    const ctx = (this.ctx = promptContext(options.prompt));
    const initial = initialJobState(promptId, now(), options.workflow);
    this.subject = new BehaviorSubject(initial);
    this.states$ = this.subject.asObservable();
    this.done = lastValueFrom(this.subject);
    merge(route$, this.facts)
      .pipe(
        scan((state: JobState, fact: JobFact) => reduceJob(state, fact, ctx, now()), initial),
        // The reducer returns the same object for a fact that changes nothing.
        distinctUntilChanged(),
        takeWhile((state) => !state.settled, true),
      )
      .subscribe(this.subject);
  }

  get state(): JobState {
    return this.subject.value;
  }

  get finished(): boolean {
    return FINISHED.has(this.state.status);
  }

  /** Tell the job a fact learnt elsewhere than its route. Ignored once it is settled. */
  emit(fact: JobFact): void {
    this.facts.next(fact);
  }
}
