import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { INSPECTOR_URL, connectHeapProbe, type HeapProbe } from '../helpers/inspector.js';
import { startStdioServer, type StdioServer } from '../helpers/mcp-stdio.js';
import { pngText } from '../helpers/png-text.js';
import { stressCount, stressLabel } from '../helpers/stress.js';
import { until } from '../helpers/wait.js';

/**
 * Many generate_image calls at once through ONE built server over stdio, round after round: every
 * call gets its own image back (each asks for its own prompt text and seed, and the PNG that
 * comes back carries the request ComfyUI ran in its `prompt` text chunk), no two calls share a
 * job or a file, none is reported lost, the queue drains, and the server's memory comes back to
 * where it was after the first round.
 *
 * Memory is read from outside the server: its JS heap after a full collection, through the
 * inspector (the child runs with --inspect on a loopback port), and its RSS from /proc (Linux). The
 * baseline is taken after a warm-up round, with the recent-jobs store (COMFYWIRE_RECENT_JOBS)
 * already full, so what each later round may add is only noise: the tolerance is a fraction of
 * what one retained state per job would cost (measured figures in the test's report line).
 */

const CALLS = stressCount(100, 200);
const ROUNDS = stressCount(4, 10);
/** Recent jobs kept: fewer than one round, so the warm-up round fills the store. */
const RECENT = 50;
/**
 * What the rounds after the baseline may add to the heap: 3 KiB per job. Without a leak, 100-call
 * rounds measured between -1.1 MB and +0.5 MB from the baseline (caches timing out, code being
 * optimized); keeping one compacted job state per job (COMFYWIRE_RECENT_JOBS past the job count)
 * measured 3.4 KiB per job.
 */
const HEAP_TOLERANCE = 3 * 1024 * CALLS * (ROUNDS - 1);

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

test(`${CALLS} concurrent generate_image calls × ${ROUNDS} rounds over stdio (${stressLabel()}): each its own image, none lost, the queue drained, memory back to its baseline`, async () => {
  await round(0); // warm-up: code paths compiled, the recent-jobs store full
  const heap0 = await heap.usedAfterGc();
  const rss0 = rssBytes(server.pid);
  const heaps: number[] = [];
  for (let n = 1; n < ROUNDS; n++) {
    await round(n);
    heaps.push(await heap.usedAfterGc());
  }
  const rss1 = rssBytes(server.pid);
  const grown = heaps.at(-1)! - heap0;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  process.stderr.write(
    `[concurrency] ${CALLS} × ${ROUNDS}: heap after GC ${mb(heap0)}, then per round ${heaps.map((h) => ((h - heap0) / 1024).toFixed(0)).join(', ')} KiB (grown ${(grown / 1024).toFixed(0)} KiB, ` +
      `tolerance ${(HEAP_TOLERANCE / 1024).toFixed(0)} KiB); RSS ${rss0 === undefined ? 'n/a' : `${mb(rss0)} -> ${mb(rss1!)}`}\n`,
  );
  expect(grown).toBeLessThan(HEAP_TOLERANCE);
  if (rss0 !== undefined) expect(rss1! - rss0).toBeLessThan(64 * 2 ** 20); // coarse: the heap figure is the precise one
  // And the server still serves.
  expect((await server.call('list_workflows')).isError).toBeFalsy();
}, 600_000);
