import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { initialJobState } from '../../streams/job-state.js';
import { RecentJobs } from '../../streams/recent-jobs.js';
import { advance, advanceUntil, useFakeClock, useRealClock, closeOnFakeClock } from '../helpers/fake-clock.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * Finished jobs are kept by count (COMFYWIRE_RECENT_JOBS, default 200), never by age: a job that
 * ended an hour ago is still answered; the (N+1)th finished job pushes out the oldest.
 */

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

describe('the recent-jobs store at its default size', () => {
  it('is 200: the 200th finished job leaves all 200; the 201st pushes out the oldest only', () => {
    const limit = loadConfig({}, { cwd: tmpdir() }).recentJobs;
    expect(limit).toBe(200);
    const store = new RecentJobs(limit);
    for (let i = 1; i <= limit; i++) store.add({ ...initialJobState(`p${i}`, i), status: 'success' });
    expect(store.size).toBe(limit);
    expect(store.get('p1')).toBeDefined();
    store.add({ ...initialJobState(`p${limit + 1}`, limit + 1), status: 'success' });
    expect(store.size).toBe(limit);
    expect(store.get('p1')).toBeUndefined();
    expect(store.get('p2')).toBeDefined();
    expect(store.list(1)[0]!.promptId).toBe(`p${limit + 1}`);
  });
});

describe('through the engine, on a fake clock', () => {
  let sim: Simulator | undefined;
  let engine: Engine | undefined;
  let outputDir: string | undefined;

  afterEach(async () => {
    await closeOnFakeClock(engine?.close(), sim?.close());
    if (outputDir) rmSync(outputDir, { recursive: true, force: true });
    sim = engine = outputDir = undefined;
  });

  it('COMFYWIRE_RECENT_JOBS=3: a job finished an hour ago is answered; the 4th finished job pushes out the 1st', async () => {
    useFakeClock();
    sim = await startSimulator({ port: 0, stepDelayMs: 10 });
    outputDir = mkdtempSync(join(tmpdir(), 'comfywire-limits-'));
    const config = loadConfig({}, {
      cwd: tmpdir(),
      overrides: {
        COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off',
        COMFYWIRE_REQUEST_TIMEOUT_MS: String(10 * HOUR), COMFYWIRE_RECENT_JOBS: '3',
      },
    });
    const e = (engine = new Engine({ config, logger: silentLogger() }).start());
    await advanceUntil(() => e.connection.state === 'open', 10 * S, { stepMs: 10 });

    const run = async (): Promise<string> => {
      let id: string | undefined;
      let done = false;
      void e.submit(slowPrompt(2, 10), { download: false }).then((job) => {
        id = job.promptId;
        void job.done.then(() => (done = true));
      });
      await advanceUntil(() => done, MIN, { stepMs: 10 });
      return id!;
    };

    const first = await run();
    await advance(HOUR, { stepMs: 30 * S });
    expect(e.jobs.get(first)).toMatchObject({ promptId: first, status: 'success' });

    const second = await run();
    const third = await run();
    // N finished jobs: all N answered.
    for (const id of [first, second, third]) expect(e.jobs.get(id)?.status).toBe('success');
    expect(e.jobs.recent().map((s) => s.promptId)).toEqual([third, second, first]);

    // The N+1th: the oldest goes, the rest stay.
    const fourth = await run();
    expect(e.jobs.get(first)).toBeUndefined();
    expect(e.jobs.recent().map((s) => s.promptId)).toEqual([fourth, third, second]);
  });
});
