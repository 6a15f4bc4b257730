import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { JobState } from '../../streams/job-state.js';
import type { TrackedJob } from '../../streams/job-tracker.js';
import { GONE_RECHECK_MS } from '../../streams/where-is.js';
import { advanceUntil, closeOnFakeClock, useFakeClock } from '../helpers/fake-clock.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * ComfyUI restarted in the middle of a run, its queue and history gone (the simulator's restart
 * fault): the running job and the one queued behind it end `lost`, each with a message that says
 * ComfyUI restarted, within 10 s of the restart on a fake clock, with the product's own reconnect
 * delays; but not before the second look GONE_RECHECK_MS after the first (a prompt is called gone
 * only when it is gone twice). The next submission runs normally.
 */

const S = 1_000;
const HOUR = 3_600 * S;

let sim: Simulator;
let engine: Engine;
let outputDir: string;

beforeEach(async () => {
  useFakeClock();
  sim = await startSimulator({ port: 0, stepDelayMs: 10 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-restart-'));
  const config = loadConfig({}, {
    cwd: tmpdir(),
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: String(HOUR) },
  });
  engine = new Engine({ config, logger: silentLogger() }).start(); // the default reconnect backoff
  await advanceUntil(() => engine.connection.state === 'open', 10 * S, { stepMs: 10 });
});

afterEach(async () => {
  await closeOnFakeClock(engine.close(), sim.close());
  rmSync(outputDir, { recursive: true, force: true });
});

async function submitted(prompt: ReturnType<typeof slowPrompt>): Promise<TrackedJob> {
  let job: TrackedJob | undefined;
  void engine.submit(prompt).then((j) => (job = j));
  await advanceUntil(() => job !== undefined, 10 * S, { stepMs: 10 });
  return job!;
}

function endOf(job: TrackedJob): { s?: JobState; at?: number } {
  const box: { s?: JobState; at?: number } = {};
  void job.done.then((s) => Object.assign(box, { s, at: Date.now() }));
  return box;
}

it('the running and the queued job end lost, saying ComfyUI restarted, within 10 s (after the second look); the next job runs', async () => {
  const running = await submitted(slowPrompt(100, 1_000)); // 100 s of render
  const queued = await submitted(slowPrompt(2, 10));
  await advanceUntil(() => running.state.status === 'running' && queued.state.queueNumber !== undefined, 10 * S, { stepMs: 10 });
  const [a, b] = [endOf(running), endOf(queued)];

  await sim.faults.restart();
  const restartedAt = Date.now();
  await advanceUntil(() => a.s !== undefined && b.s !== undefined, 10 * S, { stepMs: 50 });

  expect(a.s!.lostReason).toMatch(/^ComfyUI no longer knows this prompt: .*ComfyUI was probably restarted.* Submit it again\.$/);
  expect(b.s!.lostReason).toMatch(/^The prompt was removed from ComfyUI's queue before it ran .*or ComfyUI restarted\. Submit it again/);
  for (const end of [a, b]) {
    expect(end.s!.status).toBe('lost');
    expect(end.at! - restartedAt).toBeLessThanOrEqual(10 * S);
    expect(end.at! - restartedAt).toBeGreaterThanOrEqual(GONE_RECHECK_MS);
  }
  expect(engine.inFlight()).toEqual([]);

  const next = await submitted(slowPrompt(2, 10));
  const n = endOf(next);
  await advanceUntil(() => n.s !== undefined, 10 * S, { stepMs: 10 });
  expect(n.s!.status).toBe('success');
  expect(n.s!.downloads).toHaveLength(1);
});
