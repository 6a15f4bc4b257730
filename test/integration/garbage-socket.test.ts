import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import type { Logger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { DEFAULT_STALL_TIMEOUT_MS } from '../../streams/connection.js';
import type { JobState } from '../../streams/job-state.js';
import { advance, advanceUntil, closeOnFakeClock, useFakeClock } from '../helpers/fake-clock.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * Socket health counts only valid frames (issue 8: the job finished in ComfyUI in 1 s, but
 * get_workflow_status said "queued" for 40 s). A simulator whose socket sends only garbage, and
 * still answers pings, is declared stalled 45 s after its last valid sign of life, not before;
 * the engine redials and resyncs, and the job that finished in ComfyUI is seen finished. Its
 * garbage costs a line or two of log, not one per frame.
 */

const S = 1_000;
const STALL = DEFAULT_STALL_TIMEOUT_MS;

let sim: Simulator;
let engine: Engine;
let outputDir: string;
let warnings: string[];

beforeEach(async () => {
  useFakeClock();
  sim = await startSimulator({ port: 0, stepDelayMs: 10 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-garbage-'));
  const config = loadConfig({}, {
    cwd: tmpdir(),
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: String(3_600 * S) },
  });
  warnings = [];
  const keep = (m: string) => void warnings.push(m);
  const logger = { warn: keep, info: () => undefined, error: keep, debug: () => undefined } as unknown as Logger;
  engine = new Engine({ config, logger, backoff: { jitter: 'none' } }).start();
});

afterEach(async () => {
  await closeOnFakeClock(engine.close(), sim.close());
  rmSync(outputDir, { recursive: true, force: true });
});

it('only garbage (pings still answered): stalled 45 s after the last valid frame, redialed, and the finished job seen finished', async () => {
  await advanceUntil(() => engine.connection.state === 'open', 10 * S, { stepMs: 10 });
  const lastValid = Date.now(); // the open and its status frame: nothing valid comes after this
  sim.faults.garbleSockets();
  let job: Awaited<ReturnType<Engine['submit']>> | undefined;
  void engine.submit(slowPrompt(2, 10), { download: false }).then((j) => (job = j));
  await advanceUntil(() => job !== undefined, 10 * S, { stepMs: 10 });
  const final: { s?: JobState } = {};
  void job!.done.then((s) => (final.s = s));

  // The run is over in ComfyUI within a second; the socket says nothing we can read.
  await advance(STALL - 1 * S - (Date.now() - lastValid), { stepMs: 250 });
  expect(engine.connection.state).toBe('open'); // pings were answered all along: still "healthy" until 45 s
  expect(job!.state.status).toBe('queued');
  expect(final.s).toBeUndefined();

  await advanceUntil(() => final.s !== undefined, 10 * S, { stepMs: 100 });
  expect(final.s!.status).toBe('success');
  expect(Date.now() - lastValid).toBeGreaterThanOrEqual(STALL);
  expect(Date.now() - lastValid).toBeLessThan(STALL + 5 * S);
  const dropped = warnings.filter((w) => w.startsWith('Dropped'));
  expect(dropped.length).toBeGreaterThanOrEqual(1);
  expect(dropped.length).toBeLessThanOrEqual(2);
});
