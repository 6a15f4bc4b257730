import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import {
  Engine, RESYNC_RETRIES, RESYNC_RETRY_DELAY_MS, RESYNC_RETRY_MAX_DELAY_MS, resyncRetryDelay,
} from '../../src/engine.js';
import { ComfyUnreachableError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { JobState } from '../../streams/job-state.js';
import type { TrackedJob } from '../../streams/job-tracker.js';
import { advance, advanceUntil, useFakeClock, useRealClock, closeOnFakeClock } from '../helpers/fake-clock.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * The resync after a reconnect (src/engine.ts): when its /queue request fails, it is tried again
 * RESYNC_RETRIES (8) times, after 0.25, 0.5, 1, 2, 4 s and then the 5 s cap. A job that finished
 * while the socket was away is completed if the 8th retry gets through; if that one fails too,
 * the resync gives up and the job waits for the next reconnect (whose resync completes it).
 */

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DELAYS = [250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000];

describe('the retry delays', () => {
  it('double from 250 ms; 4 s is the last below the 5 s cap, then 5 s (8 s nominal) and on', () => {
    expect([RESYNC_RETRIES, RESYNC_RETRY_DELAY_MS, RESYNC_RETRY_MAX_DELAY_MS]).toEqual([8, 250, 5_000]);
    expect(Array.from({ length: RESYNC_RETRIES }, (_, i) => resyncRetryDelay(i + 1))).toEqual(DELAYS);
    expect(RESYNC_RETRY_DELAY_MS * 2 ** 4).toBeLessThan(RESYNC_RETRY_MAX_DELAY_MS);
    expect(RESYNC_RETRY_DELAY_MS * 2 ** 5).toBeGreaterThan(RESYNC_RETRY_MAX_DELAY_MS);
  });
});

let sim: Simulator | undefined;
let engine: Engine | undefined;
let outputDir: string | undefined;

afterEach(async () => {
  await closeOnFakeClock(engine?.close(), sim?.close());
  if (outputDir) rmSync(outputDir, { recursive: true, force: true });
  sim = engine = outputDir = undefined;
});

interface Scenario {
  sim: Simulator;
  engine: Engine;
  job: TrackedJob;
  final: { s?: JobState };
  /** Fake times of the engine's GET /queue calls once failures are armed. */
  calls: number[];
  /** How many of the coming /queue calls fail. */
  failures: { left: number };
  logger: ReturnType<typeof silentLogger>;
}

/**
 * A job that finishes while the socket is stalled (ComfyUI silent, pings unanswered): its end is
 * never seen on the socket. Once the stall has cost the socket, /queue starts failing, and the
 * socket is let back in.
 */
async function jobFinishedDuringOutage(failures: number): Promise<Scenario> {
  useFakeClock();
  sim = await startSimulator({ port: 0, stepDelayMs: 10 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-limits-'));
  const config = loadConfig({}, {
    cwd: tmpdir(),
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: String(10 * HOUR) },
  });
  const logger = silentLogger();
  engine = new Engine({ config, logger }).start();
  const e = engine;
  await advanceUntil(() => e.connection.state === 'open', 10 * S, { stepMs: 10 });
  sim.faults.slowNode({ classType: 'HarnessSlowProgress' }, MIN); // a 1-minute model load
  let job: TrackedJob | undefined;
  void e.submit(slowPrompt(3, 10), { download: false }).then((j) => (job = j));
  await advanceUntil(() => job?.state.status === 'running', 10 * S, { stepMs: 10 });
  const final: { s?: JobState } = {};
  void job!.done.then((s) => (final.s = s));

  const calls: number[] = [];
  const left = { left: 0 };
  // Only the resync's calls count: a queue refresh left over from the submission (its trailing
  // run, late on a busy machine) may still ask for /queue before the outage.
  let armed = false;
  const real = e.client.getQueue.bind(e.client);
  e.client.getQueue = async () => {
    if (armed) calls.push(Date.now());
    if (left.left-- > 0) throw new ComfyUnreachableError(`${sim!.url}/queue`, { context: { reason: 'ECONNRESET' } });
    return real();
  };

  sim.faults.stallSockets();
  await advanceUntil(() => e.connection.state === 'reconnecting', 2 * MIN, { stepMs: 2_000 });
  await advance(2 * MIN, { stepMs: 5_000 }); // the job ends meanwhile, unseen
  expect(final.s).toBeUndefined();
  left.left = failures;
  armed = true;
  sim.faults.unstallSockets();
  return { sim, engine: e, job: job!, final, calls, failures: left, logger };
}

describe('a resync whose /queue keeps failing', () => {
  it(`fails ${RESYNC_RETRIES} times, then the ${RESYNC_RETRIES}th retry gets through: the job completes from history`, async () => {
    const s = await jobFinishedDuringOutage(RESYNC_RETRIES);
    await advanceUntil(() => s.final.s !== undefined, 2 * MIN, { stepMs: 500 });
    expect(s.calls).toHaveLength(1 + RESYNC_RETRIES);
    expect(s.calls.slice(1).map((t, i) => t - s.calls[i]!)).toEqual(DELAYS);
    expect(s.final.s!.status).toBe('success');
  });

  it(`fails ${RESYNC_RETRIES + 1} times: the resync gives up after exactly ${RESYNC_RETRIES} retries; the next reconnect completes the job`, async () => {
    const s = await jobFinishedDuringOutage(Number.POSITIVE_INFINITY);
    const warn = jest.spyOn(s.logger, 'warn');
    await advanceUntil(() => s.calls.length === 1 + RESYNC_RETRIES, 2 * MIN, { stepMs: 500 });
    expect(s.calls.slice(1).map((t, i) => t - s.calls[i]!)).toEqual(DELAYS);
    // Past the cap: no 10th call, however long we wait, and the job still waits.
    await advance(10 * MIN, { stepMs: 5 * S });
    expect(s.calls).toHaveLength(1 + RESYNC_RETRIES);
    expect(s.final.s).toBeUndefined();
    expect(s.job.state.status).toBe('running');
    expect(warn.mock.calls.map(([m]) => String(m)).some((m) => /failed for good/.test(m))).toBe(true);

    s.failures.left = 0;
    s.sim.faults.dropSockets();
    await advanceUntil(() => s.final.s !== undefined, MIN, { stepMs: 50 });
    expect(s.final.s!.status).toBe('success');
    expect(s.calls).toHaveLength(1 + RESYNC_RETRIES + 1);
  });
});
