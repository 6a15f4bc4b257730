import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { Fleet } from '../src/fleet/fleet.js';
import { silentLogger } from '../src/logger.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';

/**
 * N simulators in this process and a Fleet over them through COMFYUI_URLS, as a user would list
 * them, for the fleet benchmarks (fleet.ts, dispatch.ts), with the workflows comfywire ships. No
 * rate limit or job cap: the benchmark measures dispatch, not the guards.
 */

/**
 * The simulator widens ComfyUI's gap between a run's end and its history write (and so the start
 * of its next run) to 25 ms for racy tests; a real ComfyUI takes 0-3 ms (recorded, mcp-image.ts).
 */
export const REAL_HISTORY_GAP_MS = 2;

export interface BenchFleet {
  sims: Simulator[];
  fleet: Fleet;
  close(): Promise<void>;
}

export async function startBenchFleet(hosts: number): Promise<BenchFleet> {
  const sims: Simulator[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-bench-fleet-'));
  try {
    for (let i = 0; i < hosts; i++) sims.push(await startSimulator({ port: 0, stepDelayMs: 0, historyWriteDelayMs: REAL_HISTORY_GAP_MS, dataDir: join(dir, `sim-${i + 1}`) }));
    const config = loadConfig(
      {},
      {
        cwd: dir,
        overrides: {
          COMFYUI_URLS: sims.map((s) => s.url).join(','),
          COMFYWIRE_OUTPUT_DIR: join(dir, 'out'),
          COMFYWIRE_STATE_DIR: join(dir, 'state'),
          COMFYWIRE_FEED: 'off',
          COMFYWIRE_CALL_LOG: 'off',
          COMFYWIRE_GENERATE_RATE_PER_MIN: '0',
          COMFYWIRE_READ_RATE_PER_MIN: '0',
          COMFYWIRE_MAX_ACTIVE_JOBS: '0',
        },
      },
    );
    const fleet = new Fleet({ config, logger: silentLogger() }).start();
    // Every host up and its catalog read: the first dispatch would otherwise wait for them.
    await Promise.all(fleet.hosts.map((h) => h.engine.waitUntilOpen()));
    if (!fleet.single) await Promise.all(fleet.hosts.map((h) => h.catalog.get()));
    return {
      sims,
      fleet,
      async close() {
        await fleet.close();
        await Promise.all(sims.map((s) => s.close()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(sims.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
