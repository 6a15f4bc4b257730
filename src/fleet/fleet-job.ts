import { BehaviorSubject, type Observable, type Subscription } from 'rxjs';
import type { JobState, PromptContext } from '../../streams/job-state.js';
import type { JobHandle } from '../../streams/tracked-job.js';
import { REMOVED_FROM_QUEUE } from '../../streams/job-facts.js';
import { RESTARTED } from '../../streams/resync.js';

/**
 * A job of a fleet with failover: what callers hold while the job may move from a host that lost
 * it to another. It follows one attempt (a host's TrackedJob) at a time and passes its states on,
 * except the loss that a re-dispatch repairs: then it shows the job waiting again, asks the fleet
 * for a new attempt, and follows that. Only a loss that cannot run the job twice qualifies
 * (`movable`); any other end is the job's end.
 */

/** What the fleet answers a movable loss with: a new attempt, or why there is none. */
export type Redispatch = (lost: JobState) => Promise<{ attempt: JobHandle } | { refused: string }>;

/**
 * A loss the job survives by moving: it never started there, and the host confirmed (twice, a
 * second apart) that it has the prompt neither queued nor in its history, so it cannot run it any
 * more: its in-memory queue went with a restart (RESTARTED, from the resync after the reconnect)
 * or the prompt was deleted from its queue (REMOVED_FROM_QUEUE, from the queue refresh). Any
 * other loss (a connection that gave up, a shutdown, a job that was running) is the job's end.
 */
export function movable(state: JobState): boolean {
  return state.status === 'lost' && state.startedAt === undefined && (state.lostReason === RESTARTED || state.lostReason === REMOVED_FROM_QUEUE);
}

/** How a move is told in the job's status. */
export function lossText(host: string | undefined): string {
  return `${host ?? 'its host'} no longer had the job before it started (ComfyUI restarted there, or the job was removed from its queue)`;
}

export class FleetJob implements JobHandle {
  readonly promptId: string;
  readonly ctx: PromptContext;
  readonly states$: Observable<JobState>;
  readonly done: Promise<JobState>;
  private readonly subject: BehaviorSubject<JobState>;
  private resolveDone!: (state: JobState) => void;
  private following: Subscription | undefined;
  /** The attempt followed now. */
  private current: JobHandle;
  /** Moves so far: each one is a host that lost the job. */
  moves = 0;

  /**
   * `abandon` takes back an attempt made for a job that was cancelled while it moved (the new host
   * had queued it already).
   */
  constructor(
    first: JobHandle,
    private readonly redispatch: Redispatch,
    private readonly abandon: (attempt: JobHandle) => void,
  ) {
    this.promptId = first.promptId;
    this.ctx = first.ctx;
    this.current = first;
    this.subject = new BehaviorSubject(first.state);
    this.states$ = this.subject.asObservable();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.follow(first);
  }

  get state(): JobState {
    return this.subject.value;
  }

  get finished(): boolean {
    return this.subject.isStopped;
  }

  /** The host's job followed now (cancel goes to it). */
  get attempt(): JobHandle {
    return this.current;
  }

  /** True between a movable loss and the next attempt's first state. */
  get moving(): boolean {
    return this.following === undefined && !this.subject.isStopped;
  }

  /** A cancel that arrived while the job was between hosts: it ends cancelled, and no host runs it. */
  cancelMoving(): boolean {
    if (!this.moving) return false;
    const now = Date.now();
    this.pass({ ...this.state, status: 'cancelled', endedAt: now, endedBy: 'comfywire', settled: true });
    return true;
  }

  private follow(attempt: JobHandle): void {
    this.current = attempt;
    let sync = true;
    let stop = false;
    const sub = attempt.states$.subscribe((state) => {
      if (stop) return;
      if (movable(state)) {
        stop = true;
        // Unsubscribed below when this ran during subscribe().
        if (!sync) sub.unsubscribe();
        this.following = undefined;
        void this.move(state);
        return;
      }
      this.pass(state);
    });
    sync = false;
    if (stop) sub.unsubscribe();
    else if (!this.subject.isStopped) this.following = sub;
  }

  private pass(state: JobState): void {
    if (this.subject.isStopped) return;
    this.subject.next(state);
    if (!state.settled) return;
    this.following?.unsubscribe();
    this.following = undefined;
    this.subject.complete();
    this.resolveDone(state);
  }

  private async move(lost: JobState): Promise<void> {
    this.moves++;
    // Waiting again, as far as the caller can tell: the loss is being repaired.
    this.subject.next({
      ...lost,
      status: 'queued',
      endedAt: undefined,
      endedBy: undefined,
      lostReason: undefined,
      queueNumber: undefined,
      queuePosition: undefined,
      dispatch: `re-dispatching: ${lossText(lost.host)}`,
    });
    let answer: Awaited<ReturnType<Redispatch>>;
    try {
      answer = await this.redispatch(lost);
    } catch (err) {
      answer = { refused: err instanceof Error ? err.message : String(err) };
    }
    if (this.subject.isStopped) {
      // Cancelled while moving (cancelMoving): the new host must not run it either.
      if ('attempt' in answer) this.abandon(answer.attempt);
      return;
    }
    if ('refused' in answer) {
      this.pass({ ...lost, lostReason: `${lost.lostReason ?? ''} It could not be re-dispatched: ${answer.refused}`.trim(), settled: true });
      return;
    }
    this.follow(answer.attempt);
  }
}
