import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import WebSocket from 'ws';
import type { ApiPrompt } from '../src/comfy/types.js';
import { loadConfig } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { silentLogger } from '../src/logger.js';
import { createServer } from '../src/mcp/server.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import type { WebSocketFactory, WebSocketLike } from '../streams/connection.js';
import { BASELINE_POLL_MS, HistoryPoller } from './compare-baseline.js';
import { between, median, p95, type ComparisonRow } from './compare-stats.js';
import { seededRandom } from './seeded-random.js';

/**
 * Completion latency side by side: from the simulator's `execution_success` to the moment a
 * client holds the result (outputs downloaded), for comfywire (engine + MCP server + the SDK
 * client calling generate_image, joined by the SDK's in-memory transport) and for the baseline
 * client that polls /history every second (compare-baseline.ts).
 *
 * The clock starts when the execution_success frame reaches a socket in this process: for
 * comfywire its own socket, before its listener runs; for the baseline, which has no socket, a
 * watcher opened under the client_id it submits with. Both are the moment the simulator sent
 * the frame plus one loopback hop. Render times are drawn at random over one poll period (steps
 * and step delay), the same for both sides of a pair: the baseline polls from its submit, so a
 * fixed render time would fix its wait too; this way the render ends anywhere in the period. Runs alternate (ABBA), and every run's outputs are checked against the simulator's files.
 */

export interface LatencyOptions {
  runs: number;
  pollMs?: number;
  /**
   * Range the render time is drawn from, uniformly; default one poll period wide (50 ms to
   * 50 ms + pollMs), so where the render ends within the baseline's poll period is uniform too.
   */
  renderMs?: [number, number];
  /** Range of HarnessSlowProgress steps; the step delay is the render time divided by them. */
  steps?: [number, number];
  seed?: number;
  log?: (line: string) => void;
}

export interface LatencyComparison {
  comfywire: number[];
  baseline: number[];
  /** Runs whose outputs were compared byte for byte with the simulator's files, per side. */
  verified: { comfywire: number; baseline: number };
  renderMs: number[];
  rows: ComparisonRow[];
}

const TEMPLATE = 'bench-compare';

/** The one workflow both sides run: a 64×64 image rendered in `steps` steps of `delay_ms`, saved. */
export function compareWorkflow(steps: number, delayMs: number, nonce: number): ApiPrompt {
  return {
    '1': { class_type: 'HarnessSlowProgress', inputs: { steps, delay_ms: delayMs, width: 64, height: 64, nonce } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'bench/compare' } },
  };
}

function writeTemplate(dir: string): void {
  writeFileSync(join(dir, `${TEMPLATE}.json`), JSON.stringify(compareWorkflow(1, 1, 0)));
  const parameter = (input: string, max: number) => ({ node: '1', input, type: 'integer', min: 0, max });
  writeFileSync(
    join(dir, `${TEMPLATE}.meta.json`),
    JSON.stringify({
      description: 'bench --compare: one 64x64 image, render time = steps x delay_ms',
      parameters: { steps: { ...parameter('steps', 10000), min: 1 }, delay_ms: parameter('delay_ms', 600000), nonce: parameter('nonce', 4294967295) },
    }),
  );
}

/** Notes when each prompt's execution_success reaches this socket, before any other listener. */
function watchSuccess(ws: WebSocket, arrivals: Map<string, number>): void {
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    if (!text.includes('"execution_success"')) return;
    const msg = JSON.parse(text) as { type: string; data: { prompt_id?: string } };
    if (msg.type === 'execution_success' && msg.data.prompt_id) arrivals.set(msg.data.prompt_id, performance.now());
  });
}

function successFactory(arrivals: Map<string, number>): WebSocketFactory {
  return (url, headers) => {
    const ws = new WebSocket(url, { headers, maxPayload: 0 });
    watchSuccess(ws, arrivals);
    return ws as unknown as WebSocketLike;
  };
}

/** Throws unless each file the simulator saved for the prompt is on disk, byte for byte, where the client says. */
async function verifyOutputs(sim: Simulator, side: string, promptId: string, held: Map<string, string>): Promise<void> {
  const res = await fetch(`${sim.url}/history/${promptId}`);
  const entry = ((await res.json()) as Record<string, { outputs: Record<string, { images?: Array<{ filename: string; subfolder: string }> }> }>)[promptId];
  const images = Object.values(entry?.outputs ?? {}).flatMap((o) => o.images ?? []);
  if (images.length === 0) throw new Error(`${side}: prompt ${promptId} has no images in the simulator's history`);
  if (held.size !== images.length) throw new Error(`${side}: holds ${held.size} files for ${promptId}, the simulator saved ${images.length}`);
  for (const image of images) {
    const path = held.get(image.filename);
    if (!path) throw new Error(`${side}: ${image.filename} of ${promptId} is missing from its result`);
    const expected = readFileSync(join(sim.dataDir, 'output', image.subfolder, image.filename));
    if (!readFileSync(path).equals(expected)) throw new Error(`${side}: ${path} differs from the simulator's ${image.filename}`);
  }
}

export async function compareLatency(options: LatencyOptions): Promise<LatencyComparison> {
  const pollMs = options.pollMs ?? BASELINE_POLL_MS;
  const [minRender, maxRender] = options.renderMs ?? [50, 50 + pollMs];
  const [minSteps, maxSteps] = options.steps ?? [2, 10];
  const random = seededRandom(options.seed ?? 10);
  const log = options.log ?? (() => undefined);
  // History written 2 ms after the terminal frame, as recorded on a real ComfyUI 0.3.64 (0-3 ms); the
  // simulator's default 25 ms widens that race for tests and would add to both sides' figures here.
  const sim = await startSimulator({ port: 0, historyWriteDelayMs: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-bench-compare-'));
  writeTemplate(dir);
  const arrivals = new Map<string, number>();
  const config = loadConfig({}, {
    envFile: join(dir, 'none.env'),
    // The limits are off: the benchmark's calls are back to back by design.
    overrides: {
      COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: join(dir, 'comfywire'), COMFYWIRE_WORKFLOWS_DIR: dir, COMFYWIRE_FEED: 'off',
      COMFYWIRE_GENERATE_RATE_PER_MIN: '0', COMFYWIRE_READ_RATE_PER_MIN: '0', COMFYWIRE_MAX_ACTIVE_JOBS: '0', COMFYWIRE_CALL_LOG: 'off',
    },
  });
  const logger = silentLogger();
  const engine = new Engine({ config, logger, webSocketFactory: successFactory(arrivals) }).start();
  const { server, cleanup } = createServer({ engine, config, logger });
  const client = new Client({ name: 'bench-compare', version: '1' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const clientId = `bench-baseline-${randomUUID()}`;
  const watcher = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
  watchSuccess(watcher, arrivals);
  const poller = new HistoryPoller({ baseUrl: sim.url, clientId, outDir: join(dir, 'baseline'), pollMs });
  const result: LatencyComparison = { comfywire: [], baseline: [], verified: { comfywire: 0, baseline: 0 }, renderMs: [], rows: [] };
  let nonce = 0;

  const runComfywire = async (steps: number, delayMs: number): Promise<number> => {
    const r = await client.callTool({ name: 'generate_image', arguments: { workflow: TEMPLATE, steps, params: { delay_ms: delayMs, nonce: ++nonce } } });
    const heldAt = performance.now();
    const out = r.structuredContent as { prompt_id?: string; status?: string; files?: Array<{ path: string; comfy_filename: string }> } | undefined;
    if (r.isError || out?.status !== 'success' || !out.prompt_id) {
      throw new Error(`generate_image did not succeed in the benchmark: ${JSON.stringify(r.content).slice(0, 300)}`);
    }
    const at = arrivals.get(out.prompt_id);
    if (at === undefined) throw new Error(`no execution_success seen for ${out.prompt_id}`);
    await verifyOutputs(sim, 'comfywire', out.prompt_id, new Map((out.files ?? []).map((f) => [f.comfy_filename, f.path])));
    result.verified.comfywire++;
    return heldAt - at;
  };
  const runBaseline = async (steps: number, delayMs: number): Promise<number> => {
    const r = await poller.run(compareWorkflow(steps, delayMs, ++nonce));
    const heldAt = performance.now();
    if (r.status !== 'success') throw new Error(`the baseline's prompt ${r.promptId} ended ${r.status}`);
    const at = arrivals.get(r.promptId);
    if (at === undefined) throw new Error(`no execution_success seen for ${r.promptId}`);
    await verifyOutputs(sim, 'baseline', r.promptId, new Map(r.files.map((f) => [f.filename, f.path])));
    result.verified.baseline++;
    return heldAt - at;
  };

  try {
    await Promise.all([server.connect(b), client.connect(a), engine.waitUntilOpen(), new Promise((resolve, reject) => watcher.once('open', resolve).once('error', reject))]);
    // One warm-up each, not counted: the first call loads sharp, compiles the hot paths, opens HTTP connections.
    await runComfywire(1, 5);
    await runBaseline(1, 5);
    result.verified = { comfywire: 0, baseline: 0 };
    for (let i = 0; i < options.runs; i++) {
      const steps = between(random, minSteps, maxSteps);
      const delayMs = Math.max(1, Math.round(between(random, minRender, maxRender) / steps));
      result.renderMs.push(steps * delayMs);
      // ABBA: neither side always runs right after the other's.
      if (i % 2 === 0) {
        result.comfywire.push(await runComfywire(steps, delayMs));
        result.baseline.push(await runBaseline(steps, delayMs));
      } else {
        result.baseline.push(await runBaseline(steps, delayMs));
        result.comfywire.push(await runComfywire(steps, delayMs));
      }
      log(`latency run ${i + 1}/${options.runs}: render ${steps * delayMs} ms, comfywire ${result.comfywire.at(-1)!.toFixed(1)} ms, baseline ${result.baseline.at(-1)!.toFixed(0)} ms`);
    }
  } finally {
    watcher.terminate();
    await client.close();
    await cleanup();
    await engine.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const against = `polls /history every ${pollMs} ms`;
  const note = `${options.runs} alternating runs each; renders drawn at random, ${Math.min(...result.renderMs)}-${Math.max(...result.renderMs)} ms (64×64 PNG); ` +
    'execution_success -> outputs on disk; comfywire = engine + MCP server + SDK client (in-memory transport), with its inline preview';
  result.rows = [
    { measure: 'completion latency, p50', ours: median(result.comfywire), against, theirs: median(result.baseline), note },
    { measure: 'completion latency, p95', ours: p95(result.comfywire), against, theirs: p95(result.baseline), note: 'nearest rank over the same runs' },
  ];
  return result;
}
