import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, filter } from 'rxjs';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import type { JobState } from '../../streams/job-state.js';
import type { TrackedJob } from '../../streams/job-tracker.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WORKFLOWS_DIR = join(REPO_ROOT, 'workflows');

export interface Harness {
  sim: Simulator;
  engine: Engine;
  outputDir: string;
  close(): Promise<void>;
}

/** A simulator on a free loopback port and an engine pointed at it, with its own output folder. */
export async function startHarness(
  simOptions: SimulatorOptions = {},
  env: Record<string, string> = {},
): Promise<Harness> {
  const sim = await startSimulator({ port: 0, stepDelayMs: 5, ...simOptions });
  const outputDir = mkdtempSync(join(tmpdir(), 'comfywire-test-out-'));
  const config = loadConfig(
    {},
    {
      overrides: {
        COMFYUI_URL: sim.url,
        COMFYWIRE_OUTPUT_DIR: outputDir,
        COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS_DIR,
        COMFYWIRE_FEED: 'off',
        COMFYWIRE_REQUEST_TIMEOUT_MS: '5000',
        ...env,
      },
    },
  );
  const engine = new Engine({ config, logger: silentLogger() }).start();
  return {
    sim,
    engine,
    outputDir,
    async close() {
      await engine.close();
      await sim.close();
      rmSync(outputDir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the first state of the job that satisfies the predicate. */
export function stateWhere(job: TrackedJob, predicate: (s: JobState) => boolean): Promise<JobState> {
  return firstValueFrom(job.states$.pipe(filter(predicate)));
}

export { until } from './wait.js';
