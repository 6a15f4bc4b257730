import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { ApiPrompt } from '../../src/comfy/types.js';
import { JobCapReachedError } from '../../src/errors.js';
import { eventually } from '../helpers/wait.js';
import { REPO, startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * The cap on generation jobs per process (COMFYWIRE_MAX_ACTIVE_JOBS): jobs this process submitted
 * whose run has not ended. A call beyond it is refused before anything reaches ComfyUI (not even
 * its input image), says how many run and what to do; once one ends, the next call is admitted.
 * The simulator's worker is paused so jobs stay queued until the test lets them run.
 */

const CAP = 2;
const GENERATE = { prompt: 'a red cube', steps: 1, width: 64, height: 64, wait: false };
const REFUSED =
  `Too many jobs: this comfywire process already has ${CAP} generation jobs queued or running in ComfyUI, its cap ` +
  '(COMFYWIRE_MAX_ACTIVE_JOBS); nothing was submitted.\n' +
  'Retry when one ends: get_queue shows them, get_workflow_status follows one, cancel_job frees a place. ' +
  'COMFYWIRE_MAX_ACTIVE_JOBS sets the cap (0 = none).';

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ env: { COMFYWIRE_MAX_ACTIVE_JOBS: String(CAP) } });
  h.sim.faults.pauseWorker();
});
afterEach(async () => h.close());

/** ComfyUI's queue as the simulator holds it. */
async function pendingInComfy(): Promise<number> {
  const q = (await (await fetch(`${h.sim.url}/queue`)).json()) as { queue_pending: unknown[]; queue_running: unknown[] };
  return q.queue_pending.length + q.queue_running.length;
}

it('refuses the call past the cap before submitting anything, and admits one once a job ends', async () => {
  const ids: string[] = [];
  for (let i = 0; i < CAP; i++) {
    const r = await h.call('generate_image', GENERATE);
    expect(r.isError).toBeFalsy();
    ids.push((r.structuredContent as { prompt_id: string }).prompt_id);
  }
  // An img2img call would upload its input image first: refused, it uploads nothing either.
  writeFileSync(path.join(h.outputDir, 'start.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0f0' } }).png().toBuffer());
  const refused = await h.call('generate_image', { ...GENERATE, workflow: 'sd15-img2img', input_image: 'start.png' });
  expect(refused.isError).toBe(true);
  expect(textOf(refused)).toBe(REFUSED);
  expect(existsSync(path.join(h.sim.dataDir, 'input', 'comfywire', 'start.png'))).toBe(false);
  expect(await pendingInComfy()).toBe(CAP);
  // Nothing else degrades: reads work, and so does the status of the jobs that run.
  expect((await h.call('get_queue')).isError).toBeFalsy();
  expect((await h.call('get_workflow_status', { prompt_id: ids[0] })).isError).toBeFalsy();

  h.sim.faults.resumeWorker();
  await eventually(() => (h.engine.jobState(ids[0]!)?.status === 'success' ? true : undefined));
  h.sim.faults.pauseWorker();
  const admitted = await h.call('generate_image', GENERATE);
  expect(admitted.isError).toBeFalsy();
});

it('a cancelled job frees its place', async () => {
  const first = await h.call('generate_image', GENERATE);
  await h.call('generate_image', GENERATE);
  expect(textOf(await h.call('generate_image', GENERATE))).toBe(REFUSED);
  const id = (first.structuredContent as { prompt_id: string }).prompt_id;
  expect((await h.call('cancel_job', { prompt_id: id })).isError).toBeFalsy();
  expect((await h.call('generate_image', GENERATE)).isError).toBeFalsy();
});

it('holds under concurrency: of 8 calls at once, exactly the cap get through', async () => {
  const results = await Promise.all(Array.from({ length: 8 }, () => h.call('generate_image', GENERATE)));
  expect(results.filter((r) => !r.isError)).toHaveLength(CAP);
  expect(results.filter((r) => r.isError).map(textOf)).toEqual(Array(8 - CAP).fill(REFUSED));
  expect(await pendingInComfy()).toBe(CAP);
});

it('the engine enforces it too, for every caller (the CLI submits through it)', async () => {
  const prompt = JSON.parse(readFileSync(path.join(REPO, 'workflows', 'sd15-txt2img.json'), 'utf8')) as ApiPrompt;
  await h.engine.submit(prompt);
  await h.engine.submit(prompt);
  await expect(h.engine.submit(prompt)).rejects.toBeInstanceOf(JobCapReachedError);
  expect(await pendingInComfy()).toBe(CAP);
});
