import { describe, expect, it } from '@jest/globals';
import { Subject } from 'rxjs';
import { ComfyConnection, type WebSocketLike } from '../../streams/connection.js';
import { JobTracker, type SettleHook } from '../../streams/job-tracker.js';
import type { JobState } from '../../streams/job-state.js';
import type { ComfyEvent } from '../../streams/messages.js';
import { PromptRouter } from '../../streams/prompt-router.js';
import { silentLogger } from '../../src/logger.js';
import { within } from '../helpers/wait.js';

/**
 * Every way a tracked job can go ends it: `done` resolves, the job leaves the active set for the
 * recent store, and a job that ended without an outcome says why, as `lost` with a reason.
 */

const BASE_URL = 'http://127.0.0.1:8999';
const PROMPT = 'p-1';
/** Generous: the connection's retry delays are 1 ms here, so this only bounds a hang. */
const ENDS_WITHIN_MS = 5_000;

/** A socket driven by a script: open and send frames, drop, or refuse to connect. */
class ScriptedSocket implements WebSocketLike {
  binaryType = 'arraybuffer';
  readyState = 0;
  private readonly listeners = new Map<string, Array<(ev: unknown) => void>>();

  addEventListener(type: string, listener: (ev: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  send(): void {}
  close(code = 1000): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    setTimeout(() => this.emit('close', { code, reason: '', wasClean: true }), 0);
  }
  open(): void {
    this.readyState = 1;
    this.emit('open', {});
  }
  frame(type: string, data: unknown): void {
    this.emit('message', { data: JSON.stringify({ type, data }) });
  }
  drop(): void {
    this.readyState = 3;
    this.emit('close', { code: 1006, reason: '', wasClean: false });
  }
  refuse(): void {
    this.readyState = 3;
    this.emit('error', { message: 'connect ECONNREFUSED 127.0.0.1:8999' });
    this.emit('close', { code: 1006, reason: '', wasClean: false });
  }
  private emit(type: string, ev: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l(ev);
  }
}

/**
 * A connection whose n-th socket (0-based) runs `scripts[n]`, and whose later sockets are refused;
 * it gives up after `maxAttempts` failed reconnects.
 */
function connectionThatGivesUp(maxAttempts: number, scripts: Array<(s: ScriptedSocket) => void> = []): ComfyConnection {
  let dialed = 0;
  return new ComfyConnection({
    baseUrl: BASE_URL,
    clientId: 'client-1',
    logger: silentLogger(),
    stallTimeoutMs: 0,
    pingIntervalMs: 0,
    backoff: { initialDelayMs: 1, maxDelayMs: 1, factor: 1, jitter: 'none', maxAttempts },
    webSocketFactory: () => {
      const socket = new ScriptedSocket();
      const script = scripts[dialed++] ?? ((s) => s.refuse());
      setTimeout(() => script(socket), 0);
      return socket;
    },
  });
}

function setup(events$: ComfyConnection['events$'] | Subject<ComfyEvent>, settle?: SettleHook) {
  const router = new PromptRouter(events$);
  const tracker = new JobTracker({ router, recentLimit: 10, ...(settle ? { settle } : {}) });
  return { router, tracker };
}

async function ended(done: Promise<JobState>): Promise<JobState> {
  const state = await within(done, ENDS_WITHIN_MS);
  if (state === 'timeout') throw new Error(`job.done did not resolve within ${ENDS_WITHIN_MS} ms`);
  return state;
}

describe('a connection that gives up', () => {
  it('ends a running job as lost, says where and after how many attempts, and moves it to the recent store', async () => {
    const conn = connectionThatGivesUp(2, [
      (s) => {
        s.open();
        s.frame('execution_start', { prompt_id: PROMPT, timestamp: 1 });
        setTimeout(() => s.drop(), 5);
      },
    ]);
    const { tracker } = setup(conn.events$);
    const job = tracker.track(PROMPT);
    const running = new Promise<void>((resolve) => job.states$.subscribe((s) => s.status === 'running' && resolve()));
    conn.start();
    await running;
    const final = await ended(job.done);
    expect(final).toMatchObject({ status: 'lost', settled: true });
    expect(final.lostReason).toMatch(new RegExp(`^The connection to ComfyUI at ${BASE_URL}/? gave up after 2 failed attempts to reconnect`));
    expect(final.lostReason).toMatch(/may still be running in ComfyUI.*get_workflow_status/);
    expect(final.endedAt).toEqual(expect.any(Number));
    expect(tracker.active(PROMPT)).toBeUndefined();
    expect(tracker.recent().map((s) => [s.promptId, s.status])).toEqual([[PROMPT, 'lost']]);
    await conn.close();
  });

  it('ends a job whose socket never opened, and one tracked after the connection gave up', async () => {
    const conn = connectionThatGivesUp(1);
    const { tracker } = setup(conn.events$);
    const first = tracker.track(PROMPT);
    conn.start();
    expect((await ended(first.done)).lostReason).toContain('gave up after 2 failed attempts to connect');
    const late = tracker.track('p-2');
    expect(await ended(late.done)).toMatchObject({ status: 'lost', lostReason: expect.stringContaining('gave up') });
    await conn.close();
  });
});

describe('a route that ends without an outcome', () => {
  it('ends the job as lost when the router is closed (shutting down), and one tracked afterwards at once', async () => {
    const { router, tracker } = setup(new Subject<ComfyEvent>());
    const job = tracker.track(PROMPT);
    router.close();
    const final = await ended(job.done);
    expect(final.status).toBe('lost');
    expect(final.lostReason).toMatch(/stopped listening to ComfyUI.*may still be running in ComfyUI/);
    expect(await ended(tracker.track('p-2').done)).toMatchObject({ status: 'lost' });
    expect(tracker.activeCount).toBe(0);
  });

  it('ends the job as lost when the run ended with no outcome and the settle hook could not tell either', async () => {
    const events$ = new Subject<ComfyEvent>();
    const { tracker } = setup(events$);
    const job = tracker.track(PROMPT);
    events$.next({ type: 'execution_start', data: { prompt_id: PROMPT, timestamp: 1 } } as ComfyEvent);
    events$.next({ type: 'executing', data: { node: null, prompt_id: PROMPT } } as ComfyEvent);
    const final = await ended(job.done);
    expect(final.status).toBe('lost');
    expect(final.lostReason).toMatch(/without reporting how it ended/);
  });
});

describe('a job whose submission failed', () => {
  it('is forgotten (no recent entry), yet whoever awaits done gets its end', async () => {
    const { tracker } = setup(new Subject<ComfyEvent>());
    const job = tracker.track(PROMPT);
    tracker.discard(PROMPT);
    expect(await ended(job.done)).toMatchObject({ status: 'lost', settled: true, lostReason: expect.stringMatching(/submission did not go through/) });
    expect(tracker.get(PROMPT)).toBeUndefined();
    expect(tracker.recent()).toEqual([]);
  });
});

describe('a settle hook that fails', () => {
  it.each([
    ['throws', (() => { throw new Error('disk full'); }) as unknown as SettleHook],
    ['rejects', (async () => { throw new Error('disk full'); }) as SettleHook],
  ])('that %s still ends the job, with the failure recorded', async (_, hook) => {
    const events$ = new Subject<ComfyEvent>();
    const { tracker } = setup(events$, hook);
    const job = tracker.track(PROMPT);
    events$.next({ type: 'execution_success', data: { prompt_id: PROMPT, timestamp: 1 } } as ComfyEvent);
    events$.next({ type: 'executing', data: { node: null, prompt_id: PROMPT } } as ComfyEvent);
    const final = await ended(job.done);
    expect(final).toMatchObject({ status: 'success', settled: true, downloadErrors: ['disk full'] });
    expect(tracker.recent().map((s) => s.promptId)).toEqual([PROMPT]);
  });
});
