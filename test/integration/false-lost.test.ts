import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyClient } from '../../src/comfy/client.js';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { REMOVED_FROM_QUEUE } from '../../streams/job-facts.js';
import type { JobState } from '../../streams/job-state.js';
import { GONE_RECHECK_MS } from '../../streams/where-is.js';
import { advance, advanceUntil, closeOnFakeClock, useFakeClock } from '../helpers/fake-clock.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * A job is called "removed from ComfyUI's queue" only when it is truly gone (issue 8: under 200
 * concurrent calls, 4 jobs ended that way although nothing removed them). Two ways a job looks
 * gone for one read, reproduced deterministically on a fake clock:
 * - a /queue answer made before the prompt was queued, read after its POST was answered;
 * - a server that takes a finished prompt out of its queue before it writes history (ComfyUI does
 *   both under one lock; a fork or proxy may not), seen by the resync after a reconnect.
 * And the other side: a prompt another client really deleted is declared removed, after one
 * more look GONE_RECHECK_MS later.
 */

const S = 1_000;
const HOUR = 3_600 * S;

let sim: Simulator;
let engine: Engine;
let other: ComfyClient;
let outputDir: string;

beforeEach(async () => {
  useFakeClock();
  sim = await startSimulator({ port: 0, stepDelayMs: 10 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-false-lost-'));
  const config = loadConfig({}, {
    cwd: tmpdir(),
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: String(HOUR) },
  });
  engine = new Engine({ config, logger: silentLogger(), backoff: { initialDelayMs: 100, jitter: 'none' } }).start();
  other = new ComfyClient({ baseUrl: sim.url, auth: { kind: 'none' }, clientId: 'someone-else', requestTimeoutMs: HOUR });
  await advanceUntil(() => engine.connection.state === 'open', 10 * S, { stepMs: 10 });
});

afterEach(async () => {
  await closeOnFakeClock(engine.close(), sim.close());
  rmSync(outputDir, { recursive: true, force: true });
});

/** An HTTP call with the clock standing still, stepping only if it needs a timer. */
async function http<T>(promise: Promise<T>): Promise<T> {
  let out: { v: T } | undefined;
  void promise.then((v) => (out = { v }));
  await advanceUntil(() => out !== undefined, 60 * S, { stepMs: 10 });
  return out!.v;
}

function finalOf(done: Promise<JobState>): { s?: JobState } {
  const box: { s?: JobState } = {};
  void done.then((s) => (box.s = s));
  return box;
}

it('a /queue answer made before our prompt was queued, read after its POST answered, does not lose it', async () => {
  await http(other.submitPrompt(slowPrompt(10, 1_000))); // 10 s of someone else's render
  const first = await http(engine.submit(slowPrompt(1, 10), { download: false }));
  await advanceUntil(() => first.state.queuePosition !== undefined, 10 * S, { stepMs: 10 });

  // Our second POST waits until the test lets it go; the next /queue is answered by ComfyUI at
  // once but reaches us only when the test says so.
  const gate = () => {
    let open!: () => void;
    const shut = new Promise<void>((r) => (open = r));
    return { shut, open };
  };
  const post = gate();
  const answer = gate();
  const realSubmit = engine.client.submitPrompt.bind(engine.client);
  engine.client.submitPrompt = async (...args) => {
    await post.shut;
    return realSubmit(...args);
  };
  const realQueue = engine.client.getQueue.bind(engine.client);
  let snapshots = 0;
  engine.client.getQueue = async () => {
    const made = await realQueue();
    if (snapshots++ === 0) await answer.shut;
    return made;
  };
  let second: Awaited<ReturnType<Engine['submit']>> | undefined;
  void engine.submit(slowPrompt(1, 10), { download: false }).then((j) => (second = j)); // tracked, POST held
  await advance(50, { stepMs: 10 });
  await http(other.submitPrompt(slowPrompt(1, 10))); // a status broadcast: a refresh starts
  await advanceUntil(() => snapshots === 1, 10 * S, { stepMs: 10 }); // its /queue answer made, held
  post.open(); // ComfyUI queues ours now, and answers its POST
  await advanceUntil(() => second !== undefined, 10 * S, { stepMs: 10 });
  const final = finalOf(second!.done);
  answer.open(); // the stale answer arrives
  await advance(2 * GONE_RECHECK_MS, { stepMs: 50 });
  expect(second!.state.status).toBe('queued');
  expect(second!.state.queuePosition).toBeGreaterThanOrEqual(1);

  await advanceUntil(() => final.s !== undefined, 60 * S, { stepMs: 250 });
  expect(final.s!.status).toBe('success');
});

it('a prompt out of the queue but not yet in history when the resync looks is found in history on the second look', async () => {
  const GAP = 600; // less than GONE_RECHECK_MS
  sim.faults.delayHistoryWrite(GAP);
  const job = await http(engine.submit(slowPrompt(2, 10), { download: false }));
  const final = finalOf(job.done);
  // Our socket hears nothing from here on (its execution_success is lost), as in an outage.
  sim.faults.stallSockets();
  const where = async () => {
    const [q, h] = await Promise.all([other.getQueue(), other.getHistory(job.promptId)]);
    const queued = [...q.running, ...q.pending].some((i) => i.promptId === job.promptId);
    return { queued, inHistory: h !== undefined };
  };
  let now = { queued: true, inHistory: false };
  await advanceUntil(async () => {
    now = await where();
    return !now.queued;
  }, 10 * S, { stepMs: 10 });
  expect(now.inHistory).toBe(false); // in the gap: in neither

  // The socket drops; the engine reconnects 100 ms later and resyncs while the prompt is in neither.
  sim.faults.dropSockets();
  sim.faults.unstallSockets();
  await advanceUntil(() => final.s !== undefined, 10 * S, { stepMs: 50 });
  expect(final.s!.status).toBe('success');
  expect(final.s!.endedBy).not.toBe('comfywire');
});

it('a prompt another client really deleted is declared removed, after one more look GONE_RECHECK_MS later', async () => {
  await http(other.submitPrompt(slowPrompt(60, 1_000))); // a minute of someone else's render
  const job = await http(engine.submit(slowPrompt(1, 10), { download: false }));
  await advanceUntil(() => job.state.queuePosition !== undefined, 10 * S, { stepMs: 10 });
  const final = finalOf(job.done);

  await http(other.deleteFromQueue([job.promptId]));
  const deletedAt = Date.now();
  await advance(GONE_RECHECK_MS - 100, { stepMs: 50 });
  expect(job.state.status).toBe('queued'); // found nowhere once: not declared yet
  await advanceUntil(() => final.s !== undefined, 5 * S, { stepMs: 50 });
  expect(final.s).toMatchObject({ status: 'lost', lostReason: REMOVED_FROM_QUEUE });
  expect(final.s!.endedAt! - deletedAt).toBeGreaterThanOrEqual(GONE_RECHECK_MS);
  expect(final.s!.endedAt! - deletedAt).toBeLessThan(GONE_RECHECK_MS + 500);
});
