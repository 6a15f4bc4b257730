import { afterEach, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyClient } from '../../src/comfy/client.js';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { JobState } from '../../streams/job-state.js';
import type { TrackedJob } from '../../streams/job-tracker.js';
import { advance, advanceUntil, useFakeClock, useRealClock, closeOnFakeClock } from '../helpers/fake-clock.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * Queue-position refreshes (src/jobs/queue-positions.ts, throttled in src/engine.ts) over a fake
 * 10-minute wait behind another client's long render: positions follow ComfyUI's status
 * broadcasts, a burst of broadcasts never stacks refreshes (one running, at most one after it),
 * and nothing asks for /queue while no job of ours waits, however long that lasts.
 */

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

let sim: Simulator | undefined;
let engine: Engine | undefined;
let outputDir: string | undefined;

afterEach(async () => {
  await closeOnFakeClock(engine?.close(), sim?.close());
  if (outputDir) rmSync(outputDir, { recursive: true, force: true });
  sim = engine = outputDir = undefined;
});

/** Every GET /queue the engine makes, how many at once, and an optional (fake) slowness. */
function countQueueRequests(e: Engine): { calls: number; inFlight: number; maxInFlight: number; delayMs: number } {
  const c = { calls: 0, inFlight: 0, maxInFlight: 0, delayMs: 0 };
  const real = e.client.getQueue.bind(e.client);
  e.client.getQueue = async () => {
    c.calls++;
    c.inFlight++;
    c.maxInFlight = Math.max(c.maxInFlight, c.inFlight);
    try {
      // The answer is what the queue was when asked; it arrives delayMs later (a busy server).
      const answer = await real();
      if (c.delayMs > 0) await new Promise((r) => setTimeout(r, c.delayMs));
      return answer;
    } finally {
      c.inFlight--;
    }
  };
  return c;
}

it('10 minutes queued behind another client\'s render: positions follow status broadcasts, refreshes never stack, no polling', async () => {
  useFakeClock();
  sim = await startSimulator({ port: 0, stepDelayMs: 10 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-limits-'));
  const config = loadConfig({}, {
    cwd: tmpdir(),
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: String(10 * HOUR) },
  });
  engine = new Engine({ config, logger: silentLogger() }).start();
  const e = engine;
  const queue = countQueueRequests(e);
  const other = new ComfyClient({ baseUrl: sim.url, auth: { kind: 'none' }, clientId: 'someone-else', requestTimeoutMs: 10 * HOUR });
  /** Runs an HTTP call with the clock standing still but stepping if a timer is needed. */
  const http = async <T>(promise: Promise<T>): Promise<T> => {
    let out: { v: T } | undefined;
    void promise.then((v) => (out = { v }));
    await advanceUntil(() => out !== undefined, MIN, { stepMs: 10 });
    return out!.v;
  };
  await advanceUntil(() => e.connection.state === 'open', 10 * S, { stepMs: 10 });

  // Idle: no job of ours for 10 minutes, with another client's traffic (status broadcasts): no /queue.
  await http(other.submitPrompt(slowPrompt(1, 10)));
  await advance(10 * MIN, { stepMs: 5 * S });
  expect(queue.calls).toBe(0);

  await http(other.submitPrompt(slowPrompt(600, 1_000))); // 600 steps of 1 s: a 10-minute render
  const longStartedAt = Date.now();

  // Ours, queued behind it: its position is looked up once at submission.
  const job: TrackedJob = await http(e.submit(slowPrompt(2, 10), { download: false }));
  const final: { s?: JobState } = {};
  void job.done.then((s) => (final.s = s));
  await advanceUntil(() => job.state.queuePosition !== undefined && queue.inFlight === 0, 10 * S, { stepMs: 10 });
  expect(job.state).toMatchObject({ status: 'queued', queuePosition: 1 });
  const afterSubmit = queue.calls;
  expect(afterSubmit).toBeGreaterThanOrEqual(1);
  expect(afterSubmit).toBeLessThanOrEqual(2);

  // Eight minutes of waiting with no broadcast: no polling at all.
  await advance(8 * MIN, { stepMs: 5 * S });
  expect(queue.calls).toBe(afterSubmit);
  expect(job.state.status).toBe('queued');

  // Another client jumps the queue: one broadcast, one refresh, the new position.
  const urgent = await http(other.submitPrompt(slowPrompt(1, 10), { front: true }));
  await advanceUntil(() => job.state.queuePosition === 2 && queue.inFlight === 0, 10 * S, { stepMs: 10 });
  expect(queue.calls).toBe(afterSubmit + 1);
  await http(other.deleteFromQueue([urgent.promptId]));
  await advanceUntil(() => job.state.queuePosition === 1 && queue.inFlight === 0, 10 * S, { stepMs: 10 });
  expect(queue.calls).toBe(afterSubmit + 2);

  // A burst of five broadcasts while each refresh takes 2 s: one refresh runs, one follows it with
  // the final picture (the first one's answer is already stale), never two at once.
  queue.delayMs = 2 * S;
  const before = queue.calls;
  const burst: string[] = [];
  for (let i = 0; i < 5; i++) burst.push((await http(other.submitPrompt(slowPrompt(1, 10), { front: true }))).promptId);
  await advanceUntil(() => queue.inFlight === 0 && job.state.queuePosition === 6, 30 * S, { stepMs: 100 });
  await advance(10 * S, { stepMs: 500 });
  expect(queue.maxInFlight).toBe(1);
  expect(queue.calls - before).toBeLessThanOrEqual(2);
  expect(job.state.queuePosition).toBe(6);
  queue.delayMs = 0;
  await http(other.deleteFromQueue(burst));
  await advanceUntil(() => job.state.queuePosition === 1 && queue.inFlight === 0, 10 * S, { stepMs: 10 });

  // The long render ends (10 minutes after it started); ours runs and finishes.
  await advanceUntil(() => final.s !== undefined, 15 * MIN, { stepMs: 2 * S });
  expect(final.s!.status).toBe('success');
  expect(final.s!.startedAt! - longStartedAt).toBeGreaterThanOrEqual(10 * MIN);
  const whenDone = queue.calls;

  // Nothing of ours waits any more: another client's traffic and 10 more minutes cause no /queue.
  await http(other.submitPrompt(slowPrompt(1, 10)));
  await advance(10 * MIN, { stepMs: 5 * S });
  expect(queue.calls).toBe(whenDone);
});
