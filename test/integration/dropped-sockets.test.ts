import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiPrompt } from '../../src/comfy/types.js';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { JobState } from '../../streams/job-state.js';
import type { TrackedJob } from '../../streams/job-tracker.js';
import { stressCount, stressLabel } from '../helpers/stress.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { deadline, until } from '../helpers/wait.js';
import { seededRandom } from '../../bench/seeded-random.js';

/**
 * Every connection between comfywire and ComfyUI (the WebSocket and the HTTP keep-alive sockets)
 * reset by a proxy at one moment of a job's life, drawn at random: before the submission, while
 * the prompt is queued, in the middle of its progress, between its last `executed` and its
 * outcome, or in the middle of the download of its output. The simulator's holds put the cut
 * exactly in that phase however slow the machine is. Whatever the moment, the job ends as it
 * would have without the cut: a success, its output on disk byte for byte as ComfyUI wrote it, no
 * partial file anywhere, nothing reported lost. The draws come from a seed printed with any
 * failure (COMFYWIRE_FAULT_SEED replays one).
 */

const RUNS = stressCount(30, 100);
const PHASES = ['before_submit', 'queued', 'mid_progress', 'after_executed', 'mid_download'] as const;
type Phase = (typeof PHASES)[number];
const STEPS = 6;
const SEED = Number(process.env.COMFYWIRE_FAULT_SEED ?? Date.now() % 2 ** 31);


let sim: Simulator;
let proxy: TcpProxy;
let engine: Engine;
let outputDir: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, stepDelayMs: 2 });
  proxy = await startTcpProxy({ host: '127.0.0.1', port: sim.port });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-dropped-'));
  const config = loadConfig({}, {
    cwd: tmpdir(),
    overrides: { COMFYUI_URL: proxy.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: '10000' },
  });
  // Short reconnect delays: the runs prove what the cut does to jobs, not how long a redial waits.
  engine = new Engine({ config, logger: silentLogger(), backoff: { initialDelayMs: 20, maxDelayMs: 200 } }).start();
  await engine.waitUntilOpen();
});

afterAll(async () => {
  await engine?.close();
  await proxy?.close();
  await sim?.close();
  rmSync(outputDir, { recursive: true, force: true });
});

const prompt = (run: number): ApiPrompt => ({
  '1': { class_type: 'HarnessSlowProgress', inputs: { steps: STEPS, delay_ms: 2, width: 96, height: 96, nonce: (SEED % 1_000_000) * 1000 + run } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: `cut${run}` } },
});

/** Waits (bounded) until the job's state satisfies `predicate`. */
function stateOf(job: TrackedJob, what: string, predicate: (s: JobState) => boolean): Promise<void> {
  return deadline(
    new Promise<void>((resolve) => {
      const sub = job.states$.subscribe((s) => {
        if (predicate(s)) {
          resolve();
          queueMicrotask(() => sub.unsubscribe());
        }
      });
    }),
    10_000,
    what,
  );
}

function partFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('.part'));
}

/** One job with the cut in `phase`, at a point drawn by `rand`; returns the settled state. */
async function runWithCut(run: number, phase: Phase, rand: () => number): Promise<{ state: JobState; cut: number }> {
  // Each run starts from a healthy link (the last run's socket may still be redialing).
  await until(() => engine.connection.state === 'open' && proxy.live > 0, 10_000, 5);
  let cut = 0;
  const cutNow = () => (cut += proxy.cutAll());
  if (phase === 'before_submit') {
    cutNow();
    const job = await engine.submit(prompt(run));
    return { state: await job.done, cut };
  }
  sim.faults.pauseWorker(); // nothing of the run may pass before the holds are armed
  const job = await engine.submit(prompt(run));
  if (phase === 'queued') {
    await stateOf(job, 'the job queued with its number', (s) => s.queueNumber !== undefined);
    cutNow();
    sim.faults.resumeWorker();
  } else if (phase === 'mid_progress') {
    const step = 1 + Math.floor(rand() * (STEPS - 1)); // held before step 2..STEPS
    const hold = sim.faults.holdStep({ promptId: job.promptId, nodeId: '1', value: step + 1 });
    sim.faults.resumeWorker();
    await hold.reached;
    await stateOf(job, `step ${step} seen`, (s) => (s.nodes['1']?.value ?? 0) >= step);
    cutNow();
    hold.release();
  } else if (phase === 'after_executed') {
    const hold = sim.faults.holdOutcome(job.promptId);
    sim.faults.resumeWorker();
    await hold.reached;
    await stateOf(job, 'the output seen', (s) => Object.keys(s.outputs).length > 0);
    cutNow();
    hold.release();
  } else {
    // The simulator holds back at least the last byte, whatever the draw: the cut lands in the body.
    const hold = sim.faults.holdView(1 + Math.floor(rand() * 3000));
    sim.faults.resumeWorker();
    await hold.reached;
    await until(() => partFiles(outputDir).length > 0, 10_000, 5);
    cutNow();
    hold.release();
  }
  return { state: await job.done, cut };
}

test(`${RUNS} jobs (${stressLabel()}), every connection cut once at a random phase: each ends a success with its output intact, none lost`, async () => {
  const rand = seededRandom(SEED);
  const tally: Record<Phase, number> = { before_submit: 0, queued: 0, mid_progress: 0, after_executed: 0, mid_download: 0 };
  for (let run = 0; run < RUNS; run++) {
    // Every phase at least once in any run of five or more, then at random.
    const phase = run < PHASES.length ? PHASES[run]! : PHASES[Math.floor(rand() * PHASES.length)]!;
    tally[phase]++;
    const where = `run ${run} (${phase}), seed ${SEED}: replay with COMFYWIRE_FAULT_SEED=${SEED}`;
    try {
      const { state, cut } = await deadline(runWithCut(run, phase, rand), 30_000, where);
      expect(cut).toBeGreaterThan(0);
      expect({ status: state.status, lost: state.lostReason, errors: state.downloadErrors }).toEqual({ status: 'success', lost: undefined, errors: [] });
      expect(state.downloads).toHaveLength(1);
      const file = state.downloads[0]!;
      expect(readFileSync(file.path)).toEqual(readFileSync(join(sim.dataDir, file.type, file.subfolder, file.filename)));
      expect(file.bytes).toBe(readFileSync(file.path).length);
      expect(partFiles(outputDir)).toEqual([]);
    } catch (error) {
      sim.faults.resumeWorker();
      throw new Error(`${where}\n${(error as Error).message}`, { cause: error });
    }
  }
  expect(Object.values(tally).every((n) => n > 0 || RUNS < PHASES.length)).toBe(true);
  // Nothing left running or held, and the engine still serves.
  expect(engine.inFlight()).toEqual([]);
  expect((await (await engine.submit(prompt(RUNS))).done).status).toBe('success');
}, 240_000);
