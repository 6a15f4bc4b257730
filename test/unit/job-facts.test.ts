import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Subject } from 'rxjs';
import {
  FAILED_WITHOUT_DETAILS, REMOVED_FROM_QUEUE, accepted, dequeued, downloaded, history, lost, queuePosition, seenRunning, settleFailed, settled,
  type JobFact,
} from '../../streams/job-facts.js';
import { FINISHED, initialJobState, promptContext, reduceJob, type JobState } from '../../streams/job-state.js';
import { JobTracker } from '../../streams/job-tracker.js';
import type { ComfyEvent } from '../../streams/messages.js';
import { PromptRouter } from '../../streams/prompt-router.js';
import { RESTARTED } from '../../streams/resync.js';
import type { ApiPrompt } from '../../src/comfy/types.js';
import { within } from '../helpers/wait.js';

/**
 * A job's whole life replayed from a list of facts through the one reducer: every way it can end,
 * and, as a property over random orders, that an outcome once reached is final.
 */

const P = 'p-1';
const PROMPT: ApiPrompt = {
  '3': { class_type: 'KSampler', inputs: {} },
  '9': { class_type: 'SaveImage', inputs: {}, _meta: { title: 'Save' } },
};
const ctx = promptContext(PROMPT);
const NO_OUTCOME = 'no outcome';

const ev = (type: string, data: Record<string, unknown>): JobFact => ({ type, data: { prompt_id: P, ...data } }) as unknown as JobFact;
const start = ev('execution_start', { timestamp: 1 });
const executing = (node: string | null): JobFact => ev('executing', { node });
const progress = (value: number): JobFact => ev('progress', { node: '3', value, max: 20 });
const IMAGE = { filename: 'a_00001_.png', subfolder: '', type: 'output' };
const executed = ev('executed', { node: '9', output: { images: [IMAGE] } });
const success = ev('execution_success', { timestamp: 2 });
const failure = ev('execution_error', {
  node_id: '3', node_type: 'KSampler', executed: [], exception_message: 'out of memory', exception_type: 'torch.OutOfMemoryError', traceback: ['line 1'],
});
const interrupted = ev('execution_interrupted', { node_id: '3', node_type: 'KSampler', executed: [] });
const FILE = { nodeId: '9', filename: IMAGE.filename, subfolder: '', type: 'output', path: '/out/p-1/a_00001_.png', bytes: 10 };

/** Fold a recorded list of facts, one millisecond apart, from a fresh job submitted at 0. */
function replay(facts: JobFact[]): JobState {
  return facts.reduce((s, f, i) => reduceJob(s, f, ctx, i + 1), initialJobState(P, 0));
}

/** Every state along the way, the initial one first. */
function states(facts: JobFact[]): JobState[] {
  const out = [initialJobState(P, 0)];
  facts.forEach((f, i) => out.push(reduceJob(out[i]!, f, ctx, i + 1)));
  return out;
}

describe('every way a job ends, replayed from its facts', () => {
  it('success: running, outputs, the end of run, downloads, settled', () => {
    const s = replay([accepted(7), queuePosition(1), start, executing('3'), progress(10), executed, success, executing(null), downloaded([FILE], []), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'success', queueNumber: 7, fraction: 1, endedBy: 'socket', settled: true, downloads: [FILE] });
    expect(s.files.map((f) => f.filename)).toEqual([IMAGE.filename]);
    expect(s.queuePosition).toBeUndefined();
    expect(s.currentNode).toBeUndefined();
  });

  it('error: the failing node, its class and the exception', () => {
    const s = replay([accepted(1), start, executing('3'), failure, executing(null), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'error', settled: true, error: { nodeId: '3', classType: 'KSampler', exceptionType: 'torch.OutOfMemoryError' } });
    expect(s.lostReason).toBeUndefined();
  });

  it('interrupted: where it stopped', () => {
    const s = replay([accepted(1), start, executing('3'), interrupted, executing(null), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'interrupted', interrupted: { id: '3', classType: 'KSampler' }, settled: true });
  });

  it('cancelled: dequeued by us before it ran', () => {
    const s = replay([accepted(1), queuePosition(2), dequeued('us'), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'cancelled', endedAt: 3, endedBy: 'comfywire', settled: true });
    expect(s.queuePosition).toBeUndefined();
  });

  it('dequeued elsewhere while waiting: lost, saying who may have removed it', () => {
    const s = replay([accepted(1), queuePosition(0), dequeued('elsewhere'), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'lost', lostReason: REMOVED_FROM_QUEUE, settled: true });
  });

  it('dequeued elsewhere once running changes nothing: it left the queue to run', () => {
    const facts = [accepted(1), start, executing('3')];
    expect(replay([...facts, dequeued('elsewhere')])).toEqual(replay(facts));
  });

  it('lost after a ComfyUI restart (resync found it nowhere)', () => {
    const s = replay([accepted(1), start, progress(5), lost(RESTARTED), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'lost', lostReason: RESTARTED, endedBy: 'comfywire', settled: true });
  });

  it('finished while away: the history entry gives outcome and outputs (cached outputs included)', () => {
    const entry = {
      outputs: { '9': { images: [IMAGE] } },
      status: { status_str: 'success', completed: true, messages: [['execution_start', { prompt_id: P }], ['execution_success', { prompt_id: P }]] as Array<[string, Record<string, unknown>]> },
    };
    const s = replay([accepted(1), start, history(entry), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'success', endedBy: 'history', settled: true, outputs: entry.outputs });
  });

  it('history that only says "error": an error without details, not a lost reason', () => {
    const s = replay([accepted(1), start, history({ outputs: {}, status: { status_str: 'error', completed: false, messages: [] } })]);
    expect(s.status).toBe('error');
    expect(s.error?.exceptionMessage).toBe(FAILED_WITHOUT_DETAILS);
    expect(s.lostReason).toBeUndefined();
  });

  it('an end of run without an outcome, that nothing else could explain: lost with the reason settled gives', () => {
    const s = replay([accepted(1), start, executing('3'), executing(null), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'lost', lostReason: NO_OUTCOME, settled: true });
  });

  it('a settle that failed is recorded with the download errors, the outcome kept', () => {
    const s = replay([start, success, executing(null), settleFailed(new Error('disk full')), settled(NO_OUTCOME)]);
    expect(s).toMatchObject({ status: 'success', downloadErrors: ['disk full'] });
  });

  it('the end of run marks the run over once; a bare executing (no prompt id) does not', () => {
    expect(replay([start, executing(null)]).endedBy).toBe('socket');
    expect(replay([start, { type: 'executing', data: { node: null } }]).endedBy).toBeUndefined();
  });
});

describe('a tracked job: its route and its facts, one stream', () => {
  function setup() {
    const events$ = new Subject<ComfyEvent>();
    const tracker = new JobTracker({ router: new PromptRouter(events$), recentLimit: 10 });
    return { events$, tracker, job: tracker.track(P, { prompt: PROMPT }) };
  }
  const ended = async (done: Promise<JobState>) => {
    const s = await within(done, 5_000);
    if (s === 'timeout') throw new Error('job.done did not resolve');
    return s;
  };

  it('lost after success is ignored, and the job still settles and retires', async () => {
    const { events$, tracker, job } = setup();
    job.emit(accepted(3));
    events$.next(start as ComfyEvent);
    events$.next(success as ComfyEvent);
    job.emit(lost('the connection gave up'));
    const final = await ended(job.done);
    expect(final).toMatchObject({ status: 'success', settled: true, queueNumber: 3 });
    expect(final.lostReason).toBeUndefined();
    expect(tracker.active(P)).toBeUndefined();
    expect(tracker.recent().map((s) => s.status)).toEqual(['success']);
  });

  it('a route that gives up ends the job as lost', async () => {
    const { events$, job } = setup();
    events$.next(start as ComfyEvent);
    events$.error(new Error('socket exploded'));
    expect(await ended(job.done)).toMatchObject({ status: 'lost', lostReason: expect.stringContaining('socket exploded') });
  });

  it('states$ replays the current state and completes at settled; facts after that change nothing', async () => {
    const { events$, job } = setup();
    events$.next(start as ComfyEvent);
    const seen: string[] = [];
    job.states$.subscribe((s) => seen.push(s.status));
    events$.next(interrupted as ComfyEvent);
    job.emit(dequeued('us')); // a cancel that lost the race to the interrupt changes nothing
    events$.next(executing(null) as ComfyEvent);
    const final = await ended(job.done);
    job.emit(lost('too late'));
    expect(job.state).toBe(final);
    expect(final.status).toBe('interrupted');
    expect(seen[0]).toBe('running');
    expect(seen.at(-1)).toBe('interrupted');
  });
});

/** Any fact a job can receive, with small variations. */
const anyFact: fc.Arbitrary<JobFact> = fc.oneof(
  fc.constantFrom<JobFact>(
    start, executing('3'), executing('9'), executing(null), executed, success, failure, interrupted, seenRunning,
    dequeued('us'), dequeued('elsewhere'), lost('gone'), downloaded([FILE], []), settleFailed(new Error('x')),
    ev('execution_error', { node_id: '3', node_type: 'KSampler', exception_message: '', exception_type: 'ExecutionBlocked' }),
    history({ outputs: {}, status: { status_str: 'error', messages: [] } }),
    history({ outputs: { '9': { images: [IMAGE] } }, status: { status_str: 'success', messages: [['execution_success', { prompt_id: P }]] } }),
    history({ status: { status_str: 'success', messages: [['execution_interrupted', { prompt_id: P, node_id: '3', node_type: 'KSampler' }]] } }),
  ),
  fc.integer({ min: 0, max: 20 }).map(progress),
  fc.integer({ min: 0, max: 5 }).map(queuePosition),
  fc.integer({ min: 1, max: 99 }).map(accepted),
);

describe('terminal is final (property over random fact orders)', () => {
  it('once a job has an outcome, no later fact changes it, its end time or its reasons', () => {
    fc.assert(
      fc.property(fc.array(anyFact, { maxLength: 40 }), (facts) => {
        const all = states(facts);
        const first = all.findIndex((s) => FINISHED.has(s.status));
        if (first < 0) return;
        const outcome = all[first]!;
        for (const s of all.slice(first)) {
          expect(s.status).toBe(outcome.status);
          expect(s.endedAt).toBe(outcome.endedAt);
          expect(s.lostReason).toBe(outcome.lostReason);
          expect(s.error).toBe(outcome.error);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('settled always ends with an outcome, and once the run is over it stays over', () => {
    fc.assert(
      fc.property(fc.array(anyFact, { maxLength: 30 }), (facts) => {
        const all = states([...facts, settled(NO_OUTCOME)]);
        const final = all.at(-1)!;
        expect(FINISHED.has(final.status)).toBe(true);
        expect(final.settled).toBe(true);
        const over = all.findIndex((s) => s.endedBy !== undefined);
        for (const s of all.slice(over)) expect(s.endedBy).toBe(all[over]!.endedBy);
      }),
      { numRuns: 1_000 },
    );
  });
});
