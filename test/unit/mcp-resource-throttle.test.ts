import { describe, expect, it } from '@jest/globals';
import { Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../../src/mcp/deps.js';
import {
  LIST_CHANGED_INTERVAL_MS,
  RESOURCE_UPDATE_INTERVAL_MS,
  ResourceSubscriptions,
} from '../../src/mcp/resources/subscriptions.js';
import type { ComfyEvent } from '../../streams/messages.js';
import { initialJobState, type JobState } from '../../streams/job-state.js';

/**
 * The throttles of resource notifications on a virtual clock: a subscribed job's
 * `resources/updated` at most once per RESOURCE_UPDATE_INTERVAL_MS (the last change always
 * announced), `list_changed` at most once per LIST_CHANGED_INTERVAL_MS, over renders of seconds
 * to an hour.
 */

const URI = 'comfywire://jobs/p1';

function setup(scheduler: TestScheduler, states$: Observable<JobState>, done: Promise<JobState> = new Promise(() => {})) {
  const updated: number[] = [];
  const listed: number[] = [];
  const events$ = new Subject<ComfyEvent>();
  const job = { promptId: 'p1', states$, done };
  const server = {
    server: {
      sendResourceUpdated: async () => void updated.push(scheduler.now()),
      registerCapabilities: () => undefined,
      setRequestHandler: () => undefined,
    },
    isConnected: () => true,
    sendResourceListChanged: () => void listed.push(scheduler.now()),
  } as unknown as McpServer;
  const deps = {
    engine: { job: (id: string) => (id === 'p1' ? job : undefined), events$ },
    logger: { debug: () => undefined },
  } as unknown as McpDeps;
  const subs = new ResourceSubscriptions(server, deps, RESOURCE_UPDATE_INTERVAL_MS, scheduler);
  return { subs, updated, listed, events$ };
}

const state = (value: number): JobState => ({ ...initialJobState('p1', 0), status: 'running', fraction: value / 1000 });

describe('resources/updated for a subscribed job', () => {
  it('a change just after the window is announced; changes inside it are folded into its trailing edge', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    let out: { updated: number[] } | undefined;
    scheduler.run(({ cold }) => {
      const w = RESOURCE_UPDATE_INTERVAL_MS;
      // The first value is the current state (skipped), then changes at 10, 20 (same window), and
      // one just after the window closes.
      const states$ = cold(`a 9ms b 9ms c ${w - 1}ms d ${w * 4}ms |`, { a: state(0), b: state(1), c: state(2), d: state(3) });
      const s = setup(scheduler, states$);
      s.subs.subscribe(URI);
      out = s;
    });
    const w = RESOURCE_UPDATE_INTERVAL_MS;
    // leading at 10; trailing at 10 + w (c); d arrives at 20 + w, inside the next window that the
    // trailing emission opened, so it goes out at its end.
    expect(out!.updated).toEqual([10, 10 + w, 10 + 2 * w]);
  });

  it('over a 1-hour render with a change every 50 ms, never more than one per window and the last change always sent', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const hour = 3_600_000;
    let updated: number[] = [];
    scheduler.run(() => {
      const states$ = new Subject<JobState>();
      const s = setup(scheduler, states$);
      s.subs.subscribe(URI);
      states$.next(state(0)); // the current state on subscription (skipped)
      // Each change schedules the next: the virtual queue stays short (72,000 changes in all).
      scheduler.schedule(
        function (t = 50) {
          states$.next(state(t));
          if (t < hour) this.schedule(t + 50, 50);
          else states$.complete();
        },
        50,
        50,
      );
      updated = s.updated;
    });
    const gaps = updated.slice(1).map((t, i) => t - updated[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(RESOURCE_UPDATE_INTERVAL_MS);
    expect(updated.length).toBeGreaterThanOrEqual(hour / RESOURCE_UPDATE_INTERVAL_MS - 1);
    expect(updated.at(-1)).toBeGreaterThanOrEqual(hour);
  });
});

describe('list_changed', () => {
  it('coalesces job starts and ends to one per window, leading and trailing', async () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    let listed: number[] = [];
    scheduler.run(() => {
      const s = setup(scheduler, new Subject<JobState>());
      const start = { type: 'execution_start', data: { prompt_id: 'p1', timestamp: 0 } } as unknown as ComfyEvent;
      scheduler.schedule(() => s.events$.next(start), 0);
      scheduler.schedule(() => s.events$.next(start), LIST_CHANGED_INTERVAL_MS - 1);
      scheduler.schedule(() => s.events$.next(start), 3 * LIST_CHANGED_INTERVAL_MS + 1);
      listed = s.listed;
    });
    // At 0 (leading), the one at 999 at the window's end (trailing), the one at 3001 on its own.
    expect(listed).toEqual([0, LIST_CHANGED_INTERVAL_MS, 3 * LIST_CHANGED_INTERVAL_MS + 1]);
  });
});
