import { afterAll, beforeAll, expect, it } from '@jest/globals';
import vm from 'node:vm';
import { KB, MB, settledMemory } from '../helpers/heap.js';
import { objectCensus, type Census } from '../helpers/object-census.js';
import { stressCount, stressLabel } from '../helpers/stress.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * Issue 10's soak: generate_image after generate_image through the real MCP client and server, on
 * one in-process engine and a simulator with no step delay. After a warm-up (code loaded, caches
 * and the recent-jobs store full), everything the process holds is taken as the baseline, then
 * again after every window of jobs:
 * - the counts get_system_stats reports (jobs in flight, prompt routes, download marks, event and
 *   state subscribers, socket listeners, HTTP connections, tasks) are back where they were, the
 *   recent jobs at their cap; the process's active timers and handles too;
 * - the number of live objects, closures included (V8's own census, after a full collection) is within
 *   a few dozen of the baseline: a window is WINDOW jobs, so one object kept per job shows;
 * - heap and RSS after a full collection stay within a bound (the heap drifts by a megabyte or
 *   so as the JIT settles, which is why objects are counted rather than bytes).
 */

const JOBS = stressCount(150, 10_000);
const WINDOWS = 3;
const WARM_UP = 60;
/** Kept small so the warm-up fills it: the store is capped, not a leak. */
const RECENT_CAP = 40;
/** Objects drift by ~15 over the first windows (measured); a window adds JOBS / WINDOWS (50) if each job keeps one. */
const CENSUS_SLACK = 30;
/** Counts taken again when one is over the slack (see the window loop). */
const RECOUNTS = 3;
/** Heap after a full collection moves by ±1.5 MB between windows (code and feedback, measured). */
const HEAP_TOLERANCE = 4 * MB;
/** RSS follows the allocator, not the heap, and moves more: a bound. */
const RSS_TOLERANCE = 48 * MB;
/** Up to 400 ms a job on a busy two-core machine (about 100 ms quiet): 10,000 jobs may take over an hour. */
const TIMEOUT_MS = Math.max(600_000, (WARM_UP + JOBS) * 400);

const realProcess = vm.runInThisContext('process') as NodeJS.Process;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 0, env: { COMFYWIRE_RECENT_JOBS: String(RECENT_CAP) } });
});
afterAll(async () => h.close());

/**
 * A census with no idle keep-alive socket in the engine's HTTP pool: each pooled connection is a
 * couple of hundred objects (socket, parser, buffers), and a busy machine opens an extra one now and
 * then. The simulator closes its idle connections as a server whose keep-alive timed out does.
 */
async function censusWithoutIdleSockets(): Promise<Census> {
  const deadline = Date.now() + 10_000;
  while ((h.engine.counts().httpConnections ?? 0) > 0 && Date.now() < deadline) {
    h.sim.closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(h.engine.counts().httpConnections ?? 0).toBe(0);
  return objectCensus();
}

interface Held {
  jobs_in_flight: number;
  recent_jobs: number;
  prompt_routes: number;
  downloads: number;
  no_download_marks: number;
  event_subscribers: number;
  state_subscribers: number;
  socket_listeners?: number;
  http_connections?: number;
  tasks: number;
}

/**
 * ComfyUI keeps the last 10,000 runs in its history, and so does the simulator, in this process:
 * cleared (as a user's POST /history {"clear": true} does) before each reading, so the heap is
 * comfywire's alone.
 */
async function clearComfyHistory(): Promise<void> {
  const res = await fetch(`${h.sim.url}/history`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"clear":true}' });
  await res.text();
  expect(res.status).toBe(200);
}

async function held(): Promise<Held> {
  const r = await h.call('get_system_stats');
  expect(r.isError).toBeFalsy();
  return (r.structuredContent as { comfywire: Held }).comfywire;
}

/** Timers and handles of the whole process, by kind (what Node itself keeps alive). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of realProcess.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

let seed = 0;
/** One job through MCP: its own prompt_id, its own file, the text and structured content agreeing. */
async function oneJob(seen: Set<string>): Promise<void> {
  seed++;
  const r = await h.call('generate_image', { prompt: `soak ${seed}`, seed, width: 64, height: 64 });
  const out = r.structuredContent as { status: string; prompt_id: string; files: Array<{ path: string }> } | undefined;
  if (r.isError || out?.status !== 'success' || out.files.length !== 1 || seen.has(out.prompt_id) || !out.files[0]!.path.includes(out.prompt_id)) {
    throw new Error(`job ${seed} did not return its own one file: ${textOf(r).slice(0, 300)}`);
  }
  seen.add(out.prompt_id);
}

it(`${JOBS.toLocaleString('en-US')} sequential jobs (${stressLabel()}): counts, timers, heap and RSS flat`, async () => {
  const seen = new Set<string>();
  for (let i = 0; i < WARM_UP; i++) await oneJob(seen);
  const baseHeld = await held();
  const baseResources = resources();
  await clearComfyHistory();
  // The census first: what it allocates (the inspector, a list of every object) stays in the RSS it is compared with.
  const baseCensus = await censusWithoutIdleSockets();
  const base = await settledMemory();
  const started = Date.now();
  const censuses: Census[] = [];
  expect(baseHeld.recent_jobs).toBe(RECENT_CAP);

  const heaps: Array<[number, number]> = [];
  const perWindow = Math.ceil(JOBS / WINDOWS);
  expect(perWindow).toBeGreaterThan(CENSUS_SLACK); // else a leak of one object a job could hide in the slack
  let done = 0;
  for (let w = 0; w < WINDOWS; w++) {
    for (let i = 0; i < perWindow; i++) await oneJob(seen);
    done += perWindow;
    const now = await held();
    // Exactly as before: none of these may grow with the number of jobs.
    expect(now).toEqual({ ...baseHeld, http_connections: now.http_connections });
    // The pool may hold one more keep-alive socket than at the baseline, never one per job.
    expect(now.http_connections ?? 0).toBeLessThanOrEqual((baseHeld.http_connections ?? 0) + 2);
    const res = resources();
    // A few timers come and go (keep-alive, pings); a per-job leak would add hundreds.
    const grownResources = Object.fromEntries(Object.entries(res).filter(([kind, count]) => count > (baseResources[kind] ?? 0) + 3));
    expect(grownResources).toEqual({});
    await clearComfyHistory();
    const mem = await settledMemory();
    heaps.push([done, mem.heap]);
    expect(mem.heap - base.heap).toBeLessThanOrEqual(HEAP_TOLERANCE);
    expect(mem.rss - base.rss).toBeLessThanOrEqual(RSS_TOLERANCE);
    // Against the baseline, and against the first window. Objects kept per job stay; what a busy
    // machine still has in flight (a socket write, a timer's closure) is gone a moment later: a
    // count over the slack is taken again, up to RECOUNTS times, a second apart, before it fails.
    let census = await censusWithoutIdleSockets();
    const grownOf = (c: Census) =>
      Object.fromEntries(
        (Object.keys(c) as Array<keyof Census>)
          .map((k) => [k, Math.max(c[k] - baseCensus[k], c[k] - (censuses[0] ?? c)[k])] as const)
          .filter(([, grown]) => grown > CENSUS_SLACK),
      );
    for (let again = 0; again < RECOUNTS && Object.keys(grownOf(census)).length > 0; again++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      census = await censusWithoutIdleSockets();
    }
    censuses.push(census);
    expect(grownOf(census)).toEqual({});
  }
  expect(seen.size).toBe(WARM_UP + done);

  const delta = (c: Census) => (Object.keys(c) as Array<keyof Census>).map((k) => c[k] - baseCensus[k]).join('/');
  process.stderr.write(
    `soak: ${done} jobs after ${WARM_UP} warm-up in ${((Date.now() - started) / 1000).toFixed(0)} s; heap ${(base.heap / MB).toFixed(1)} MB at the baseline, windows ${heaps
      .map(([, y]) => `${((y - base.heap) / KB).toFixed(0)} KB`)
      .join(', ')}; objects ${censuses.map(delta).join(', ')} of ${JSON.stringify(baseCensus)}; counts ${JSON.stringify(baseHeld)}\n`,
  );
}, TIMEOUT_MS);
