import { afterEach, beforeEach, expect, it, jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { ComfyUnreachableError } from '../../src/errors.js';
import { SUBMIT_RETRIES } from '../../src/jobs/post-prompt.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { JobState } from '../../streams/job-state.js';
import type { TrackedJob } from '../../streams/job-tracker.js';
import { GONE_RECHECK_MS } from '../../streams/where-is.js';
import { advance, advanceUntil, closeOnFakeClock, useFakeClock } from '../helpers/fake-clock.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * A POST /prompt whose connection is reset before its answer (found by the dropped-socket runs: a
 * keep-alive socket cut just as a submission went out). The prompt id is comfywire's, so ComfyUI
 * is asked whether it got it: queued -> accepted, never posted twice; nowhere, and still nowhere
 * GONE_RECHECK_MS later -> posted again. The job runs exactly once either way. On a fake clock.
 */

const S = 1_000;
const HOUR = 3_600 * S;

let sim: Simulator;
let engine: Engine;
let outputDir: string;
let starts: string[];

beforeEach(async () => {
  useFakeClock();
  sim = await startSimulator({ port: 0, stepDelayMs: 10 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-broken-post-'));
  const config = loadConfig({}, {
    cwd: tmpdir(),
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: String(HOUR) },
  });
  engine = new Engine({ config, logger: silentLogger(), backoff: { initialDelayMs: 100, jitter: 'none' } }).start();
  starts = [];
  engine.events$.subscribe((e) => {
    if (e.type === 'execution_start') starts.push(String((e.data as { prompt_id: string }).prompt_id));
  });
  await advanceUntil(() => engine.connection.state === 'open', 10 * S, { stepMs: 10 });
});

afterEach(async () => {
  await closeOnFakeClock(engine.close(), sim.close());
  rmSync(outputDir, { recursive: true, force: true });
});

function outcomeOf<T>(promise: Promise<T>): { value?: T; error?: unknown; settled: boolean } {
  const box: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then((value) => Object.assign(box, { value, settled: true }), (error: unknown) => Object.assign(box, { error, settled: true }));
  return box;
}

async function finished(job: TrackedJob): Promise<JobState> {
  const final = outcomeOf(job.done);
  await advanceUntil(() => final.settled, 10 * S, { stepMs: 10 });
  return final.value!;
}

it('queued, but the answer lost: found in the queue, accepted with its number, posted once, run once', async () => {
  const posts = jest.spyOn(engine.client, 'submitPrompt');
  sim.faults.breakNextPromptPost('after_queueing');
  const submitted = outcomeOf(engine.submit(slowPrompt(2, 10)));
  await advanceUntil(() => submitted.settled, 10 * S, { stepMs: 10 });
  expect(submitted.error).toBeUndefined();
  const job = submitted.value!;
  expect(posts).toHaveBeenCalledTimes(1);
  const s = await finished(job);
  expect([s.status, s.queueNumber]).toEqual(['success', 0]);
  expect(starts.filter((id) => id === job.promptId)).toHaveLength(1);
});

it(`never reached the queue: looked for again ${GONE_RECHECK_MS} ms later, not before, then posted again and run once`, async () => {
  const original = engine.client.submitPrompt.bind(engine.client);
  const postedAt: number[] = [];
  const failedAt: number[] = [];
  jest.spyOn(engine.client, 'submitPrompt').mockImplementation((...args) => {
    postedAt.push(Date.now());
    return original(...args).catch((error: unknown) => {
      failedAt.push(Date.now());
      throw error;
    });
  });
  sim.faults.breakNextPromptPost('before_queueing');
  const submitted = outcomeOf(engine.submit(slowPrompt(2, 10)));
  await advanceUntil(() => failedAt.length === 1, 5 * S, { stepMs: 10 });
  await advance(GONE_RECHECK_MS - 50, { stepMs: 50 });
  expect(postedAt).toHaveLength(1);
  await advanceUntil(() => submitted.settled, 5 * S, { stepMs: 10 });
  expect(submitted.error).toBeUndefined();
  expect(postedAt).toHaveLength(2);
  expect(postedAt[1]! - failedAt[0]!).toBeGreaterThanOrEqual(GONE_RECHECK_MS);
  const s = await finished(submitted.value!);
  expect(s.status).toBe('success');
  expect(starts.filter((id) => id === submitted.value!.promptId)).toHaveLength(1);
});

it('a POST that breaks every time is posted 1 + 2 times, then the connection error is reported; nothing is tracked', async () => {
  const posts = jest.spyOn(engine.client, 'submitPrompt');
  for (let i = 0; i < 3; i++) sim.faults.breakNextPromptPost('before_queueing');
  const submitted = outcomeOf(engine.submit(slowPrompt(2, 10)));
  await advanceUntil(() => submitted.settled, 10 * S, { stepMs: 50 });
  expect(submitted.error).toBeInstanceOf(ComfyUnreachableError);
  expect(posts).toHaveBeenCalledTimes(1 + SUBMIT_RETRIES);
  expect(engine.inFlight()).toEqual([]);
  // The next submission goes through.
  const next = outcomeOf(engine.submit(slowPrompt(1, 10)));
  await advanceUntil(() => next.settled, 10 * S, { stepMs: 10 });
  expect((await finished(next.value!)).status).toBe('success');
});
