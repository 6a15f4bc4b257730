import { prepareGeneration } from '../src/generation/prepare.js';
import { generateRequestSchema } from '../src/generation/request-schema.js';
import { decide, type DispatchRequest, type HostView } from '../src/fleet/dispatch.js';
import { HostLoad } from '../src/fleet/host-load.js';
import { promptNeeds } from '../src/fleet/prompt-needs.js';
import { SIMULATOR_CHECKPOINTS } from '../src/simulator/index.js';
import { startBenchFleet } from './bench-fleet.js';
import { percentile, type Figure } from './table.js';

/**
 * Time of one dispatch decision with 16 hosts: 16 simulators in this process, a Fleet over them
 * with every catalog read (real /object_info and /models), then `fleet.decide()` for the standard
 * sd15 template's prompt, timed call by call. The hosts are given varied loads (queues, measured
 * seconds per job, loaded checkpoints) so that every decision weighs costs and writes its reason,
 * as under traffic. 50 hosts: decide() is pure, so the same catalogs are reused in 50 HostViews.
 */

export interface DispatchBenchOptions {
  hosts: number;
  /** Hosts of the pure decide() figure built from the same catalogs (0: skipped). */
  viewHosts: number;
  decisions: number;
  warmup: number;
}

export const DISPATCH_DEFAULTS: DispatchBenchOptions = { hosts: 16, viewHosts: 50, decisions: 20_000, warmup: 2_000 };

/** Host i's load: queues 0-3, 4-6 s per job, loaded checkpoints alternating (one host in three has none). */
function loadAs(load: HostLoad, i: number, workflow: string): void {
  load.recordRun(workflow, 4 + (i % 5) * 0.5, false);
  load.statusQueue = i % 4;
  load.dispatched = i;
  load.loadedCheckpoint = i % 3 === 2 ? undefined : SIMULATOR_CHECKPOINTS[i % 3];
}

/** Microsecond timings of `n` calls after `warmup` untimed ones (a long-running server is warm). */
function time(n: number, warmup: number, call: () => unknown): number[] {
  for (let i = 0; i < warmup; i++) call();
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    call();
    samples[i] = (performance.now() - t) * 1000;
  }
  return samples;
}

function figure(hosts: number, samples: number[], how: string): Figure {
  return {
    name: `dispatch decision, ${hosts} hosts, p50`,
    value: percentile(samples, 50) / 1000,
    unit: 'ms',
    target: { op: '<=', value: 0.1 },
    note: `p99 ${percentile(samples, 99).toFixed(1)} µs over ${samples.length.toLocaleString('en-US')} decisions; ${how}`,
  };
}

export async function benchDispatch(o: DispatchBenchOptions = DISPATCH_DEFAULTS): Promise<Figure[]> {
  const bench = await startBenchFleet(o.hosts);
  try {
    const { fleet } = bench;
    const prepared = await prepareGeneration(fleet, generateRequestSchema(fleet.config.limits).parse({ prompt: 'a lighthouse at dusk', workflow: 'sd15-txt2img' }));
    const request: DispatchRequest = { needs: promptNeeds(prepared.prompt), workflow: prepared.templateName };
    fleet.hosts.forEach((h, i) => loadAs(h.load, i, request.workflow));
    const first = fleet.decide(request);
    if (!first.ok) throw new Error(`no host chosen: ${first.reason}`);
    const needs = time(o.decisions, o.warmup, () => promptNeeds(prepared.prompt));
    const figures = [figure(o.hosts, time(o.decisions, o.warmup, () => fleet.decide(request)), `fleet.decide(), sd15-txt2img prompt (promptNeeds p50 ${percentile(needs, 50).toFixed(1)} µs on top, once per job)`)];
    if (o.viewHosts > 0) {
      const catalogs = fleet.hosts.map((h) => h.catalog.peek());
      const views: HostView[] = Array.from({ length: o.viewHosts }, (_, i) => {
        const load = new HostLoad();
        loadAs(load, i, request.workflow);
        return { name: `gpu-${i + 1}`, up: true, state: 'open', weight: 1, tags: [], draining: false, catalog: catalogs[i % catalogs.length], load };
      });
      if (!decide(views, request).ok) throw new Error('no host chosen among the host views');
      figures.push(figure(o.viewHosts, time(o.decisions, o.warmup, () => decide(views, request)), `decide() over host views reusing the ${o.hosts} catalogs`));
    }
    return figures;
  } finally {
    await bench.close();
  }
}
