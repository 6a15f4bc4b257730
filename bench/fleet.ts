import type { ApiPrompt } from '../src/comfy/types.js';
import type { Fleet } from '../src/fleet/fleet.js';
import type { JobState } from '../streams/job-state.js';
import { PICKUP_DELAY_MS } from '../src/simulator/worker.js';
import { REAL_HISTORY_GAP_MS, startBenchFleet } from './bench-fleet.js';
import { percentile, type Figure } from './table.js';

/**
 * Jobs per minute with 1, 2 and 4 simulated hosts of equal speed, all kept busy: a window of
 * 2 × hosts jobs in flight, each refilled as one ends, so every host always has a job queued
 * behind the running one. The jobs are sleeps (HarnessSlowProgress) and a text output, no PNG,
 * so this 2-core machine measures dispatch and not image encoding. The clock runs from the end
 * of the warm-up jobs to the end of the measured ones, while the window is still full (the drain
 * at the end, when hosts run out of work one by one, is not counted).
 */

export interface FleetThroughputOptions {
  hostCounts: number[];
  runs: number;
  /** Measured jobs per host (the warm-up comes on top). */
  jobsPerHost: number;
  warmupPerHost: number;
  steps: number;
  stepDelayMs: number;
}

export const FLEET_DEFAULTS: FleetThroughputOptions = { hostCounts: [1, 2, 4], runs: 3, jobsPerHost: 20, warmupPerHost: 3, steps: 10, stepDelayMs: 20 };

export interface FleetRun {
  hosts: number;
  jobs: number;
  jobsPerMin: number;
  /** Measured jobs each host ran, in host order. */
  perHost: number[];
  /** Per host, from the end of a job to the start of its next one, as comfywire saw them (ms). */
  gapsMs: number[];
}

let nonce = 0;
/** A run of `steps` sleeps, then a text output: unique per call (no cache hit), no image written. */
export function sleepPrompt(steps: number, delayMs: number): ApiPrompt {
  return {
    '1': { class_type: 'HarnessSlowProgress', inputs: { steps, delay_ms: delayMs, width: 8, height: 8, nonce: ++nonce } },
    '2': { class_type: 'HarnessImageInfo', inputs: { image: ['1', 0] } },
  };
}

/** Keeps `window` jobs in flight until `total` have been submitted; the states in the order they ended. */
async function saturate(fleet: Fleet, total: number, window: number, prompt: () => ApiPrompt): Promise<Array<{ state: JobState; at: number }>> {
  const ends: Array<{ state: JobState; at: number }> = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      next++;
      const job = await fleet.submit(prompt(), { workflow: 'bench-sleep', download: false });
      const state = await job.done;
      ends.push({ state, at: performance.now() });
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return ends;
}

export async function measureFleetRun(hosts: number, o: FleetThroughputOptions): Promise<FleetRun> {
  const bench = await startBenchFleet(hosts);
  try {
    const window = 2 * hosts;
    const warmup = o.warmupPerHost * hosts;
    const measured = o.jobsPerHost * hosts;
    // A window's worth past the measured jobs keeps every host busy until the last measured end.
    const t0 = performance.now();
    const ends = await saturate(bench.fleet, warmup + measured + window, window, () => sleepPrompt(o.steps, o.stepDelayMs));
    const failed = ends.find((e) => e.state.status !== 'success');
    if (failed) throw new Error(`job ${failed.state.promptId} ended ${failed.state.status} on ${failed.state.host ?? '?'}`);
    const from = warmup > 0 ? ends[warmup - 1]!.at : t0;
    const to = ends[warmup + measured - 1]!.at;
    const counted = ends.slice(warmup, warmup + measured).map((e) => e.state);
    const names = bench.fleet.hosts.map((h) => h.spec.name);
    const perHost = names.map((n) => counted.filter((s) => s.host === n).length);
    return { hosts, jobs: measured, jobsPerMin: (measured / (to - from)) * 60_000, perHost, gapsMs: gaps(counted) };
  } finally {
    await bench.close();
  }
}

/** Idle time of each host between two of the given jobs: the next start minus the previous end. */
function gaps(states: JobState[]): number[] {
  const byHost = new Map<string, JobState[]>();
  for (const s of states) byHost.set(s.host ?? '?', [...(byHost.get(s.host ?? '?') ?? []), s]);
  const out: number[] = [];
  for (const runs of byHost.values()) {
    runs.sort((a, b) => a.startedAt! - b.startedAt!);
    for (let i = 1; i < runs.length; i++) out.push(runs[i]!.startedAt! - runs[i - 1]!.endedAt!);
  }
  return out;
}

const median = (values: number[]): number => percentile(values, 50);

export async function benchFleet(o: FleetThroughputOptions = FLEET_DEFAULTS): Promise<Figure[]> {
  // Host counts interleaved run by run, so a machine that gets busier mid-way slows all of them.
  const runs = new Map<number, FleetRun[]>(o.hostCounts.map((n) => [n, []]));
  for (let r = 0; r < o.runs; r++) for (const n of o.hostCounts) runs.get(n)!.push(await measureFleetRun(n, o));

  const job = `${o.steps} × ${o.stepDelayMs} ms`;
  const figures: Figure[] = [];
  for (const [n, rs] of runs) {
    const spread = rs.map((r) => r.perHost.join('/')).join(', ');
    figures.push({
      name: `fleet jobs/min, ${n} host${n > 1 ? 's' : ''} of equal speed`,
      value: median(rs.map((r) => r.jobsPerMin)),
      unit: 'jobs/min',
      note: `median of ${rs.length} runs (${rs.map((r) => Math.round(r.jobsPerMin)).join(', ')}); ${rs[0]!.jobs} jobs of ${job} per run; per host ${spread}`,
    });
  }
  const base = runs.get(1);
  for (const n of o.hostCounts.filter((c) => c > 1)) {
    if (!base) break;
    // Ratios within each run (same machine load), then their median.
    const ratios = runs.get(n)!.map((r, i) => r.jobsPerMin / base[i]!.jobsPerMin);
    figures.push({
      name: `fleet throughput, ${n} hosts / 1 host`,
      value: median(ratios),
      unit: '×',
      ...(n === 4 ? { target: { op: '>=' as const, value: 3.6 } } : {}),
      note: `median of per-run ratios ${ratios.map((x) => x.toFixed(2)).join(', ')}; ideal ${n}`,
    });
  }
  // The idle time of a host between its jobs, alone and in the widest fleet: equal figures mean
  // dispatch keeps every host as busy as one host alone (the floor is the simulator's own pickup
  // delay and history write, as ComfyUI's worker thread has one).
  const floor = PICKUP_DELAY_MS + REAL_HISTORY_GAP_MS;
  for (const n of new Set([Math.min(...o.hostCounts), Math.max(...o.hostCounts)])) {
    const idle = runs.get(n)!.flatMap((r) => r.gapsMs);
    figures.push({
      name: `fleet host idle between jobs, ${n} host${n > 1 ? 's' : ''}, p50`,
      value: median(idle),
      unit: 'ms',
      note: `p95 ${percentile(idle, 95)} ms over ${idle.length} gaps: a job's end to its host's next start as comfywire sees them; simulator floor ${floor} ms, a job ${o.steps * o.stepDelayMs} ms`,
    });
  }
  return figures;
}
