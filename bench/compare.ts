import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../src/simulator/index.js';
import { compareLatency } from './compare-latency.js';
import { ensurePeer, PEER_NAME, PEER_VERSION, type PeerOptions } from './compare-peer.js';
import { compareStartup, type ServerCommand } from './compare-startup.js';
import { comparisonTable, type ComparisonRow } from './compare-stats.js';

/**
 * `npm run bench -- --compare`: comfywire side by side with what a user would otherwise run, in
 * one table of both figures and their ratio: completion latency against a client polling
 * /history every second, and start-up to a tools/list answer and close against the npm peer.
 */

export interface CompareOptions {
  latencyRuns?: number;
  startupRuns?: number;
  pollMs?: number;
  /** The built server (dist/comfywire.mjs). */
  cli?: string;
  /** How to get the peer, or false to leave it out (its rows then say so). */
  peer?: PeerOptions | false;
  log?: (line: string) => void;
}

export interface CompareResult {
  rows: ComparisonRow[];
  table: string;
}

const DEFAULT_CLI = fileURLToPath(new URL('../comfywire.mjs', import.meta.url));

export async function runComparison(options: CompareOptions = {}): Promise<CompareResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  log('compare: completion latency (comfywire vs /history polling)...');
  const latency = await compareLatency({ runs: options.latencyRuns ?? 30, pollMs: options.pollMs, log });

  log(`compare: start-up (comfywire vs ${PEER_NAME}@${PEER_VERSION})...`);
  const peerInstall = options.peer === false ? { ok: false as const, note: 'left out by the caller' } : await ensurePeer({ log, ...options.peer });
  if (!peerInstall.ok) log(`compare: ${peerInstall.note}`);
  const home = mkdtempSync(join(tmpdir(), 'comfywire-bench-home-'));
  // A live ComfyUI on loopback for both, as a user has; neither is asked to render.
  const sim = await startSimulator({ port: 0 });
  const ours: ServerCommand = { label: 'comfywire', command: process.execPath, args: [options.cli ?? DEFAULT_CLI, 'serve'] };
  const label = `${PEER_NAME}@${PEER_VERSION}`;
  const peer = peerInstall.ok ? { label, command: process.execPath, args: [peerInstall.entry] } : { label, skipped: peerInstall.note };
  try {
    const startup = await compareStartup({ runs: options.startupRuns ?? 7, ours, peer, env: { home, comfyUrl: sim.url }, log });
    const rows = [...latency.rows, ...startup.rows];
    return { rows, table: comparisonTable(rows) };
  } finally {
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
}
