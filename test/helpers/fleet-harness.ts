import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { WORKFLOWS_DIR } from './engine-harness.js';

/** One host of a test fleet: its simulator's options and its hosts-file entry's extras. */
export interface TestHost {
  sim?: SimulatorOptions;
  weight?: number;
  tags?: string[];
  drain?: boolean;
}

export interface FleetHarness {
  sims: Simulator[];
  fleet: Fleet;
  /** gpu-1, gpu-2, ... in order. */
  names: string[];
  outputDir: string;
  hostsFile: string;
  close(): Promise<void>;
}

/**
 * N simulators on free loopback ports and a Fleet over them, named gpu-1..gpu-N through a real
 * hosts file (COMFYWIRE_HOSTS_FILE), with its own output folder.
 */
export async function startFleetHarness(hosts: TestHost[], env: Record<string, string> = {}): Promise<FleetHarness> {
  const sims: Simulator[] = [];
  for (const h of hosts) sims.push(await startSimulator({ port: 0, stepDelayMs: 5, ...h.sim }));
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-fleet-'));
  const names = hosts.map((_, i) => `gpu-${i + 1}`);
  const hostsFile = join(dir, 'hosts.json');
  writeFileSync(
    hostsFile,
    JSON.stringify(hosts.map((h, i) => ({ name: names[i], url: sims[i]!.url, ...(h.weight ? { weight: h.weight } : {}), ...(h.tags ? { tags: h.tags } : {}), ...(h.drain ? { drain: true } : {}) }))),
  );
  const outputDir = join(dir, 'out');
  const config = loadConfig(
    {},
    {
      cwd: dir,
      overrides: {
        COMFYWIRE_HOSTS_FILE: hostsFile,
        COMFYWIRE_OUTPUT_DIR: outputDir,
        COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS_DIR,
        COMFYWIRE_FEED: 'off',
        COMFYWIRE_REQUEST_TIMEOUT_MS: '5000',
        COMFYWIRE_MAX_ACTIVE_JOBS: '0',
        ...env,
      },
    },
  );
  const fleet = new Fleet({ config, logger: silentLogger() }).start();
  return {
    sims,
    fleet,
    names,
    outputDir,
    hostsFile,
    async close() {
      await fleet.close();
      await Promise.all(sims.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
