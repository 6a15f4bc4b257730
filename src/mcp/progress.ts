import {
  Subject, asyncScheduler, concat, defer, distinctUntilChanged, map, of, switchMap, takeUntil, tap, throttleTime, timer,
  type Observable, type SchedulerLike,
} from 'rxjs';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { stepOf, type JobState } from '../../streams/job-state.js';
import { formatDuration } from '../duration.js';

/**
 * A job's states as MCP progress: a fraction and a line a person can read. States change on every
 * frame (previews, per-node progress), so the stream is reduced to distinct lines and then
 * coalesced to at most one notification per PROGRESS_INTERVAL_MS per job; the final one is sent by
 * the caller once the job has settled, so it never waits for a throttle window.
 */

export const PROGRESS_INTERVAL_MS = 100;
/**
 * ComfyUI can be silent for minutes (loading a checkpoint, a VAE decode of a large image, custom
 * nodes that never report). Clients that reset their call timeout on progress (the SDK's
 * resetTimeoutOnProgress) would still give up, so silence is filled with a notification this
 * often, naming the node and the time so far. Well under the 10 s such clients are promised.
 */
export const HEARTBEAT_MS = 5_000;
/** MCP's progress is on a 0..total scale; a percentage reads well in every client. */
export const PROGRESS_TOTAL = 100;

export interface ProgressStep {
  /** 0..1 */
  fraction: number;
  message: string;
}

const percent = (fraction: number): string => `${Math.floor(fraction * 100)}%`;

/** One readable line for a state: queue position, current node and step, or the outcome. */
export function describeProgress(state: JobState): ProgressStep {
  const fraction = state.fraction;
  switch (state.status) {
    case 'queued':
      return {
        fraction,
        message:
          state.queuePosition === undefined
            ? 'queued'
            : state.queuePosition === 0
              ? 'queued, next to run'
              : `queued, ${state.queuePosition} ahead`,
      };
    case 'running': {
      const node = state.currentNode;
      if (!node) return { fraction, message: `running, ${percent(fraction)}` };
      const name = node.title ?? node.classType ?? `node ${node.id}`;
      const step = stepOf(state, node.id);
      const steps = step && step.max > 1 ? ` step ${step.value}/${step.max}` : '';
      return { fraction, message: `running ${name}${steps}, ${percent(fraction)}` };
    }
    case 'success':
      return { fraction: 1, message: state.settled ? 'done' : 'finished, fetching outputs' };
    case 'error':
      return { fraction, message: `failed${state.error ? ` in ${state.error.title ?? state.error.classType}` : ''}` };
    case 'interrupted':
      return { fraction, message: 'interrupted' };
    case 'cancelled':
      return { fraction, message: 'removed from the queue' };
    case 'lost':
      return { fraction, message: 'lost track of the job' };
  }
}

/**
 * Distinct progress lines of a job, at most one per interval (first at once, latest at each
 * window's end), and while nothing changes a heartbeat every `heartbeatMs` with the time so far.
 * Ends when the job's states end (it settled).
 */
export function progressSteps(
  states$: Observable<JobState>,
  intervalMs = PROGRESS_INTERVAL_MS,
  scheduler: SchedulerLike = asyncScheduler,
  heartbeatMs = HEARTBEAT_MS,
): Observable<ProgressStep> {
  return defer(() => {
    // Heartbeats belong to a live job: none once its states have ended, and none pending after.
    let ended = false;
    const end$ = new Subject<void>();
    const states = states$.pipe(tap({ complete: () => ((ended = true), end$.next()) }));
    return states.pipe(
      map((state) => ({ state, step: describeProgress(state) })),
      distinctUntilChanged((a, b) => a.step.message === b.step.message && a.step.fraction === b.step.fraction),
      throttleTime(intervalMs, scheduler, { leading: true, trailing: true }),
      switchMap(({ state, step }) =>
        ended
          ? of(step)
          : concat(
              of(step),
              timer(heartbeatMs, heartbeatMs, scheduler).pipe(
                takeUntil(end$),
                map(() => heartbeat(state, step, scheduler.now())),
              ),
            ),
      ),
    );
  });
}

/** The same line, with how long the job has taken so far: proof of life during a silent phase. */
function heartbeat(state: JobState, step: ProgressStep, now: number): ProgressStep {
  return { fraction: step.fraction, message: `${step.message} (${formatDuration(now - state.submittedAt)} so far)` };
}

/**
 * MCP requires `progress` to increase with every notification, but a job can report news without
 * moving (a new queue position, a new node at the same fraction). Each value is therefore kept a
 * hair above the previous one; only the final value of a success reaches the total.
 */
export function monotonicProgress(): (step: ProgressStep, final?: boolean) => number {
  let last = -1;
  const EPSILON = 0.01;
  const CEILING = PROGRESS_TOTAL - 0.5;
  return (step, final = false) => {
    const wanted = Math.round(step.fraction * PROGRESS_TOTAL * 100) / 100;
    let next = Math.max(wanted, last + EPSILON);
    if (!final || step.fraction < 1) next = Math.min(next, Math.max(CEILING, last + EPSILON));
    last = Math.round(next * 100) / 100;
    return last;
  };
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export type ProgressSender = (step: ProgressStep, final?: boolean) => Promise<void>;

/** A sender for this request's progress token, or undefined when the caller asked for none. */
export function progressSender(extra: Extra): ProgressSender | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  const next = monotonicProgress();
  return async (step, final) => {
    const progress = next(step, final);
    await extra.sendNotification({
      method: 'notifications/progress',
      params: { progressToken: token, progress, total: PROGRESS_TOTAL, message: step.message },
    });
  };
}
