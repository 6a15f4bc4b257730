import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { INSPECTOR_URL, connectHeapProbe, grownClasses, type HeapProbe, type ObjectCounts } from '../helpers/inspector.js';
import { startStdioServer, type StdioServer } from '../helpers/mcp-stdio.js';
import { pngText } from '../helpers/png-text.js';
import { stressCount, stressLabel } from '../helpers/stress.js';
import { until } from '../helpers/wait.js';

/**
 * Many generate_image calls at once through ONE built server over stdio, round after round: every
 * call gets its own image back (each asks for its own prompt text and seed, and the PNG that
 * comes back carries the request ComfyUI ran in its `prompt` text chunk), no two calls share a
 * job or a file, none is reported lost, the queue drains, and the server keeps nothing per job.
 *
 * Memory is read from outside the server, through its inspector (the child runs with --inspect on
 * a loopback port), after a full collection. The baseline is taken after a warm-up round, with
 * the recent-jobs store (COMFYWIRE_RECENT_JOBS) already full. The sharp check counts the live
 * objects of every class: without a leak each class comes back to its baseline count within a few
 * dozen whatever the load, while an object kept per job adds one per job. The bytes in use are
 * only bounded loosely: they move with V8's own work (code optimized as it gets hot adds up to a
 * few hundred KB a round for minutes; start-up bytecode, about 1 MB, is dropped at some point),
 * which no tolerance per job can tell from a small leak on a busy machine.
 */

const CALLS = stressCount(100, 200);
const ROUNDS = stressCount(4, 10);
/** Recent jobs kept: fewer than one round, so the warm-up round fills the store. */
const RECENT = 50;
/** Jobs run after the baseline. */
const MEASURED_JOBS = CALLS * (ROUNDS - 1);
/**
 * Live objects a class may gain after the baseline: one for every 4 jobs (75 in CI). Without a
 * leak the most any class gained was 18, busy machine or not, CI or full counts (the arrays and
 * closures of a keep-alive socket still open; the HTTP pool's clients, about one per download at
 * once, are all made in the warm-up round). Keeping one job state per job (COMFYWIRE_RECENT_JOBS
 * past the job count) adds 7 Objects and 6 Arrays per job: +2,100 Objects after 300 jobs.
 */
const COUNT_TOLERANCE = Math.max(40, Math.ceil(MEASURED_JOBS / 4));
/** Loose bounds: V8's own code and bytecode move the heap by about ±1.5 MB without any leak. */
const HEAP_BOUND = 8 * 2 ** 20;
const RSS_BOUND = 64 * 2 ** 20;
/**
 * The last round's sockets and timers close within seconds (keep-alive 4-5 s; a resync after a
 * reconnect holds its jobs a few seconds): the end is read again until it settles, up to this.
 */
const SETTLE_MS = 30_000;
const TRACKED_JOB = /^TrackedJob\d*$/; // esbuild may suffix a renamed class

interface GenerateOut {
  prompt_id: string;
  status: string;
  seed: number;
  lost_reason?: string;
  files: Array<{ path: string; comfy_filename: string }>;
}

let sim: Simulator;
let work: string;
let server: StdioServer;
let heap: HeapProbe;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, stepDelayMs: 1 });
  work = mkdtempSync(join(tmpdir(), 'comfywire-e2e-load-'));
  server = await startStdioServer({
    comfyUrl: sim.url,
    cwd: work,
    outputDir: join(work, 'outputs'),
    workflowsDir: WORKFLOWS_DIR,
    clientName: 'e2e-load',
    env: {
      // These calls are many on purpose: rate limits and the job cap off.
      COMFYWIRE_GENERATE_RATE_PER_MIN: '0',
      COMFYWIRE_READ_RATE_PER_MIN: '0',
      COMFYWIRE_MAX_ACTIVE_JOBS: '0',
      COMFYWIRE_RECENT_JOBS: String(RECENT),
      COMFYWIRE_LOG_LEVEL: 'warn',
      NODE_OPTIONS: '--inspect=127.0.0.1:0',
    },
  });
  await until(() => INSPECTOR_URL.test(server.stderr()), 10_000);
  heap = await connectHeapProbe(server.stderr().match(INSPECTOR_URL)![1]!);
}, 30_000);

afterAll(async () => {
  // The inspector first: a process with a debugger attached waits for it before it exits.
  await heap?.close();
  await server?.close();
  await sim?.close();
  rmSync(work, { recursive: true, force: true });
});

function rssBytes(pid: number | null): number | undefined {
  if (pid === null || process.platform !== 'linux') return undefined;
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

const textOf = (r: CallToolResult) => r.content.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('\n');

/** One round: CALLS calls at once, each checked against the request it made. */
async function round(n: number): Promise<void> {
  const requests = Array.from({ length: CALLS }, (_, i) => ({ prompt: `round ${n} call ${i} token-${n}-${i}`, seed: n * 100_000 + i }));
  const results = await Promise.all(
    requests.map((req) => server.call('generate_image', { ...req, steps: 1, width: 64, height: 64 }, { timeout: 120_000 })),
  );
  const problems = results.flatMap((r, i) => (r.isError ? [`call ${i}: ${textOf(r).slice(0, 300)}`] : []));
  expect(problems).toEqual([]);
  const outs = results.map((r) => r.structuredContent as unknown as GenerateOut);
  expect(outs.filter((o) => o.status !== 'success' || o.lost_reason !== undefined)).toEqual([]);
  expect(new Set(outs.map((o) => o.prompt_id)).size).toBe(CALLS);
  const paths = outs.flatMap((o) => o.files.map((f) => f.path));
  expect(paths).toHaveLength(CALLS);
  expect(new Set(paths).size).toBe(CALLS);
  outs.forEach((out, i) => {
    const req = requests[i]!;
    expect(out.seed).toBe(req.seed);
    const file = out.files[0]!;
    // The file sits in its job's own folder, and ComfyUI's record in it is this call's request.
    expect(file.path).toContain(`${sep}${out.prompt_id}${sep}`);
    const ran = JSON.parse(pngText(readFileSync(file.path)).prompt!) as Record<string, { inputs: Record<string, unknown> }>;
    expect({ text: ran['6']?.inputs.text, seed: ran['3']?.inputs.seed }).toEqual({ text: req.prompt, seed: req.seed });
  });
  const queue = await server.call('get_queue');
  expect(queue.isError).toBeFalsy();
  expect(queue.structuredContent).toMatchObject({ running: [], pending: [] });
}

interface Reading {
  heap: number;
  counts: ObjectCounts;
}

async function read(): Promise<Reading> {
  const counts = await heap.countsAfterGc();
  return { counts, heap: await heap.usedAfterGc() };
}

const trackedJobs = (counts: ObjectCounts) => Object.entries(counts).reduce((n, [name, c]) => n + (TRACKED_JOB.test(name) ? c : 0), 0);

/** What is wrong with a reading against the baseline (empty: nothing). */
function excess(base: Reading, now: Reading): string[] {
  const grown = grownClasses(base.counts, now.counts, COUNT_TOLERANCE).map((c) => `${c.name} +${c.grown}`);
  return [
    ...(grown.length > 0 ? [`classes grown by ${COUNT_TOLERANCE}+ live objects: ${grown.slice(0, 10).join(', ')}`] : []),
    ...(trackedJobs(now.counts) > 0 ? [`${trackedJobs(now.counts)} TrackedJob(s) alive with the queue drained`] : []),
    ...(now.heap - base.heap >= HEAP_BOUND ? [`heap grown ${((now.heap - base.heap) / 2 ** 20).toFixed(1)} MB`] : []),
  ];
}

/** The most grown class of a reading, for the report line. */
function topGrowth(base: Reading, now: Reading): string {
  const [top] = grownClasses(base.counts, now.counts, 1);
  return top ? `${top.name} +${top.grown}` : 'none grown';
}

test(`${CALLS} concurrent generate_image calls × ${ROUNDS} rounds over stdio (${stressLabel()}): each its own image, none lost, the queue drained, nothing kept per job`, async () => {
  await round(0); // warm-up: code paths compiled, the recent-jobs store full, the connection pool grown
  const base = await read();
  const rss0 = rssBytes(server.pid);
  const rounds: Reading[] = [];
  for (let n = 1; n < ROUNDS; n++) {
    await round(n);
    rounds.push(await read());
  }
  // The end, read again until what the last round left open has closed (a leak never does).
  let end = rounds.at(-1)!;
  let rereads = 0;
  for (const stop = Date.now() + SETTLE_MS; excess(base, end).length > 0 && Date.now() < stop; rereads++) end = await read();
  const rss1 = rssBytes(server.pid);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  const kib = (r: Reading) => `${((r.heap - base.heap) / 1024).toFixed(0)}`;
  process.stderr.write(
    `[concurrency] ${CALLS} × ${ROUNDS}: after each round vs the baseline: most grown class ${rounds.map((r) => topGrowth(base, r)).join(' / ')}; ` +
      `heap ${mb(base.heap)}, ${rounds.map(kib).join(', ')} KiB; end (${rereads} rereads): ${topGrowth(base, end)}, ${kib(end)} KiB ` +
      `(tolerance ${COUNT_TOLERANCE} objects a class, ${mb(HEAP_BOUND)}); RSS ${rss0 === undefined ? 'n/a' : `${mb(rss0)} -> ${mb(rss1!)}`}\n`,
  );
  expect(trackedJobs(base.counts)).toBe(0); // the baseline itself holds no job
  expect(excess(base, end)).toEqual([]);
  if (rss0 !== undefined) expect(rss1! - rss0).toBeLessThan(RSS_BOUND);
  // And the server still serves.
  expect((await server.call('list_workflows')).isError).toBeFalsy();
}, 600_000);
