import { TestScheduler } from 'rxjs/testing';
import { initialJobState, type JobState } from '../../streams/job-state.js';
import { describeProgress, monotonicProgress, progressSteps } from '../../src/mcp/progress.js';

const base = initialJobState('p1', 0);
const running = (fraction: number, value: number): JobState => ({
  ...base,
  status: 'running',
  fraction,
  currentNode: { id: '3', classType: 'KSampler', title: 'Sampler' },
  nodes: { '3': { value, max: 20, state: 'running' } },
});

describe('describeProgress', () => {
  it('says the queue position while pending', () => {
    expect(describeProgress({ ...base, queuePosition: 2 }).message).toBe('queued, 2 ahead');
    expect(describeProgress({ ...base, queuePosition: 0 }).message).toBe('queued, next to run');
  });
  it('names the node and its step while running', () => {
    expect(describeProgress(running(0.4, 7))).toEqual({ fraction: 0.4, message: 'running Sampler step 7/20, 40%' });
  });
  it('reports the outcome', () => {
    expect(describeProgress({ ...base, status: 'success', fraction: 1, settled: true }).message).toBe('done');
  });
});

describe('progressSteps', () => {
  it('sends the first state at once, then at most one per window, the latest of each', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      // States every 10 ms; a 100 ms window lets the first through and then the latest of each window.
      const states = { a: running(0.1, 1), b: running(0.2, 2), c: running(0.3, 3), d: running(0.35, 4), e: running(0.4, 5) };
      const source = cold('a 9ms b 9ms c 89ms d 9ms e|', states);
      const out = progressSteps(source, 100, scheduler);
      expectObservable(out).toBe('a 99ms c 99ms (e|)', {
        a: describeProgress(states.a),
        c: describeProgress(states.c),
        e: describeProgress(states.e),
      });
    });
  });

  it('drops states that read the same (previews, unchanged nodes)', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const s = running(0.1, 1);
      const same = { ...s, previews: 3 };
      const out = progressSteps(cold('a 200ms b 200ms c|', { a: s, b: same, c: same }), 100, scheduler);
      expectObservable(out).toBe('a 402ms |', { a: describeProgress(s) });
    });
  });
});

describe('heartbeats during silent phases', () => {
  const loading: JobState = { ...base, status: 'running', fraction: 0.02, currentNode: { id: '4', classType: 'CheckpointLoaderSimple', title: 'Load Checkpoint' } };

  it('repeats the node with the time so far every interval while ComfyUI says nothing, and stops at the end', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      // A 20 s silent checkpoint load, then the job ends: 4 heartbeats at 5, 10, 15, 20 s... but
      // the source completes at 20 s, so the one due then is not sent after the end.
      const out = progressSteps(cold('a 19999ms |', { a: loading }), 100, scheduler, 5_000);
      const line = 'running Load Checkpoint, 2%';
      expectObservable(out).toBe('a 4999ms b 4999ms c 4999ms d 4999ms |', {
        a: { fraction: 0.02, message: line },
        b: { fraction: 0.02, message: `${line} (5 s so far)` },
        c: { fraction: 0.02, message: `${line} (10 s so far)` },
        d: { fraction: 0.02, message: `${line} (15 s so far)` },
      });
    });
  });

  it('restarts the heartbeat after every real change, so a busy render sends no extra lines', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const s = { a: running(0.1, 1), b: running(0.2, 2), c: running(0.3, 3) };
      // A change every 4 s keeps the 5 s heartbeat from ever firing.
      const out = progressSteps(cold('a 3999ms b 3999ms c 3999ms |', s), 100, scheduler, 5_000);
      expectObservable(out).toBe('a 3999ms b 3999ms c 3999ms |', {
        a: describeProgress(s.a),
        b: describeProgress(s.b),
        c: describeProgress(s.c),
      });
    });
  });

  it('keeps the gap between notifications within the interval over a 1-hour silent node', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const hour = 3_600_000;
    const times: number[] = [];
    scheduler.run(({ cold }) => {
      // run() flushes the virtual clock to the end of the source when the callback returns.
      progressSteps(cold(`a ${hour - 1}ms |`, { a: loading }), 100, scheduler, 5_000).subscribe(() => times.push(scheduler.now()));
    });
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(times.length).toBe(hour / 5_000);
    expect(Math.max(...gaps)).toBe(5_000);
  });
});

describe('monotonicProgress', () => {
  it('strictly increases even when the fraction stands still, and only a success reaches 100', () => {
    const next = monotonicProgress();
    const values = [
      next({ fraction: 0, message: 'queued, 2 ahead' }),
      next({ fraction: 0, message: 'queued, 1 ahead' }),
      next({ fraction: 0.5, message: 'running' }),
      next({ fraction: 0.5, message: 'running other node' }),
      next({ fraction: 1, message: 'finished, fetching outputs' }),
      next({ fraction: 1, message: 'done' }, true),
    ];
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    expect(values[0]).toBe(0);
    expect(values[2]).toBe(50);
    expect(values[4]).toBeLessThan(100);
    expect(values[5]).toBe(100);
  });
});
