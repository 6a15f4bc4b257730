import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { silentLogger } from '../src/logger.js';
import { createServer } from '../src/mcp/server.js';
import { startSimulator } from '../src/simulator/index.js';
import type { WebSocketFactory, WebSocketLike } from '../streams/connection.js';
import { percentile, type Figure } from './table.js';

/**
 * Completion latency as the user feels it: from ComfyUI's `execution_success` to the MCP client
 * holding the generate_image result, for one 512x512 PNG with its inline preview (download and
 * JPEG encoding included). Two clocks:
 *  - in process (engine + MCP server + SDK client over an in-memory pair): performance.now() at the
 *    moment our socket receives each frame, and at every step after it (the breakdown);
 *  - over stdio with the built server: ComfyUI's own `timestamp` of execution_success (ms since the
 *    epoch, from /history) against Date.now() when the client holds the result. That clock works
 *    for any ComfyUI on this machine: `mcp-image-real` uses it against a real one.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(REPO, 'dist', 'comfywire.mjs');
const WORKFLOWS = join(REPO, 'workflows');
const MIN = 60_000;

/**
 * The simulator widens ComfyUI's gap between execution_success and the history write to 25 ms so
 * that racy clients fail every time; a real ComfyUI takes 0-3 ms (recorded). The benchmark uses a
 * recorded figure so that the gap it measures is ComfyUI's, not the simulator's test setting.
 */
const REAL_HISTORY_GAP_MS = 2;

/** Limits off: a benchmark makes calls back to back by design. */
const NO_LIMITS = {
  COMFYWIRE_FEED: 'off',
  COMFYWIRE_CALL_LOG: 'off',
  COMFYWIRE_GENERATE_RATE_PER_MIN: '0',
  COMFYWIRE_READ_RATE_PER_MIN: '0',
  COMFYWIRE_MAX_ACTIVE_JOBS: '0',
};

const STAGES = ['success', 'endOfRun', 'over', 'downloaded', 'settled', 'built', 'sent', 'received', 'client'] as const;
type Stage = (typeof STAGES)[number];
type Marks = Partial<Record<Stage, number>>;

const STAGE_TEXT: Record<Stage, string> = {
  success: 'execution_success frame on our socket',
  endOfRun: 'end-of-run frame (executing null)',
  over: 'job over (settling starts)',
  downloaded: 'files downloaded',
  settled: 'job settled (done resolves)',
  built: 'tool result built (server transport)',
  sent: 'redacted, handed to the transport',
  received: 'client transport receives it',
  client: 'callTool resolves in the client',
};

/** Marks when each prompt's execution_success and end-of-run frames arrive, before the engine sees them. */
function frameClock(marks: Map<string, Marks>, lags: Map<string, number>): WebSocketFactory {
  return (url, headers) => {
    const ws = new WebSocket(url, { headers, maxPayload: 0 });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      const success = text.includes('"execution_success"');
      if (!success && !(text.includes('"executing"') && text.includes('null'))) return;
      const at = performance.now();
      const msg = JSON.parse(text) as { type: string; data: { node?: unknown; prompt_id?: string } };
      const id = msg.data.prompt_id;
      if (!id) return;
      if (msg.type === 'execution_success') {
        mark(marks, id, 'success', at);
        lags.set(id, Date.now());
      }
      else if (msg.type === 'executing' && msg.data.node === null) mark(marks, id, 'endOfRun', at);
    });
    return ws as unknown as WebSocketLike;
  };
}

function mark(marks: Map<string, Marks>, id: string, stage: Stage, at = performance.now()): void {
  const m = marks.get(id) ?? {};
  m[stage] ??= at;
  marks.set(id, m);
}

/** The prompt_id of a JSON-RPC tool result, if the message is one. */
function resultPromptId(message: JSONRPCMessage): string | undefined {
  const result = (message as { result?: { structuredContent?: { prompt_id?: unknown } } }).result;
  const id = result?.structuredContent?.prompt_id;
  return typeof id === 'string' ? id : undefined;
}

export interface RunSpec {
  comfyUrl: string;
  args: Record<string, unknown>;
}

interface Sample {
  marks: Marks;
  /** Date.now() when the client held the result, minus ComfyUI's execution_success timestamp. */
  sinceComfyMs?: number;
  /** Date.now() when execution_success reached our socket, minus its timestamp: ComfyUI's own delay. */
  frameLagMs?: number;
  previewBytes: number;
}

/** One way of calling generate_image, open for several calls. */
interface Session<T> {
  call(): Promise<T>;
  close(): Promise<void>;
}

/** ComfyUI's own timestamp of the run's execution_success, from its history entry. */
async function successTimestamp(comfyUrl: string, promptId: string): Promise<number | undefined> {
  const res = await fetch(`${comfyUrl}/history/${encodeURIComponent(promptId)}`);
  const body = (await res.json()) as Record<string, { status?: { messages?: Array<[string, { timestamp?: number }]> } }>;
  const found = body[promptId]?.status?.messages?.find(([type]) => type === 'execution_success');
  return found?.[1].timestamp;
}

function checkImage(r: CallToolResult): number {
  if (r.isError) throw new Error(`generate_image failed in the benchmark: ${JSON.stringify(r.content).slice(0, 300)}`);
  const image = r.content.find((c) => c.type === 'image');
  if (!image) throw new Error('generate_image returned no inline preview: the benchmark would not measure the encoding');
  return Buffer.byteLength(image.data, 'base64');
}

/** Engine + MCP server + SDK client in this process: every step of the path timed. */
export async function openInProcess(spec: RunSpec): Promise<Session<Sample>> {
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-bench-image-'));
  const marks = new Map<string, Marks>();
  const lags = new Map<string, number>();
  const config = loadConfig({}, {
    envFile: join(dir, 'none.env'),
    overrides: { COMFYUI_URL: spec.comfyUrl, COMFYWIRE_OUTPUT_DIR: dir, COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS, ...NO_LIMITS },
  });
  const logger = silentLogger();
  const engine = new Engine({ config, logger, webSocketFactory: frameClock(marks, lags) }).start();
  // The job's own milestones, seen from outside: the same observables the tools subscribe to.
  const submit = engine.submit.bind(engine);
  engine.submit = async (prompt, options) => {
    const job = await submit(prompt, options);
    const id = job.promptId;
    job.over$.subscribe(() => mark(marks, id, 'over'));
    job.states$.subscribe((s) => s.downloads.length > 0 && mark(marks, id, 'downloaded'));
    void job.done.then(() => mark(marks, id, 'settled'));
    return job;
  };
  const { server, cleanup } = createServer({ engine, config, logger });
  const client = new Client({ name: 'bench', version: '1' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const wire = serverSide.send.bind(serverSide);
  serverSide.send = (message, options) => {
    const id = resultPromptId(message);
    if (id) mark(marks, id, 'sent');
    return wire(message, options);
  };
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  // After connect: the server's send is now the redacting one, the client's onmessage the SDK's.
  const redacting = serverSide.send.bind(serverSide);
  serverSide.send = (message, options) => {
    const id = resultPromptId(message);
    if (id) mark(marks, id, 'built');
    return redacting(message, options);
  };
  const deliver = clientSide.onmessage!;
  clientSide.onmessage = (message, extra) => {
    const id = resultPromptId(message);
    if (id) mark(marks, id, 'received');
    deliver(message, extra);
  };
  await engine.waitUntilOpen();
  return {
    async call() {
      const r = (await client.callTool({ name: 'generate_image', arguments: spec.args }, undefined, { timeout: 20 * MIN })) as CallToolResult;
      const at = performance.now();
      const heldAt = Date.now();
      const previewBytes = checkImage(r);
      const id = (r.structuredContent as { prompt_id: string }).prompt_id;
      mark(marks, id, 'client', at);
      const stamp = await successTimestamp(spec.comfyUrl, id);
      const lag = lags.get(id);
      return {
        marks: marks.get(id) ?? {},
        previewBytes,
        ...(stamp !== undefined ? { sinceComfyMs: heldAt - stamp } : {}),
        ...(stamp !== undefined && lag !== undefined ? { frameLagMs: lag - stamp } : {}),
      };
    },
    async close() {
      await client.close();
      await cleanup();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The built server over stdio, as an MCP host runs it; ComfyUI's clock against ours. */
export async function openStdio(spec: RunSpec): Promise<Session<number>> {
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-bench-image-stdio-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('COMFYWIRE_') && !k.startsWith('COMFYUI_')) env[k] = v;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...(process.env['COMFYWIRE_BENCH_SERVER_FLAGS']?.split(' ').filter(Boolean) ?? []), CLI, 'serve'],
    env: { ...env, ...NO_LIMITS, COMFYUI_URL: spec.comfyUrl, COMFYWIRE_OUTPUT_DIR: dir, COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS, COMFYWIRE_LOG_LEVEL: 'error' },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return {
    async call() {
      const r = (await client.callTool({ name: 'generate_image', arguments: spec.args }, undefined, { timeout: 20 * MIN })) as CallToolResult;
      const heldAt = Date.now();
      checkImage(r);
      const stamp = await successTimestamp(spec.comfyUrl, (r.structuredContent as { prompt_id: string }).prompt_id);
      if (stamp === undefined) throw new Error('no execution_success timestamp in the history entry');
      return heldAt - stamp;
    },
    async close() {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `calls` calls, the first `warm` left out (JIT, sharp's first load, connection set-up). */
async function collect<T>(session: Session<T>, calls: number, warm: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < calls; i++) {
    const s = await session.call();
    if (i >= warm) out.push(s);
  }
  return out;
}

const span = (s: Sample, from: Stage, to: Stage): number | undefined => {
  const a = s.marks[from];
  const b = s.marks[to];
  return a !== undefined && b !== undefined ? b - a : undefined;
};
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

/** p50 of each step after the previous one: where the time goes. */
export function breakdown(samples: Sample[]): string {
  const parts: string[] = [];
  for (let i = 1; i < STAGES.length; i++) {
    const from = STAGES[i - 1]!;
    const to = STAGES[i]!;
    const values = samples.map((s) => span(s, from, to)).filter((v): v is number => v !== undefined);
    if (values.length) parts.push(`${STAGE_TEXT[to]} +${fmt(percentile(values, 50))}`);
  }
  return parts.join('; ');
}

function figures(label: string, samples: Sample[], stdio: number[], targets: boolean): Figure[] {
  const total = samples.map((s) => span(s, 'success', 'client')).filter((v): v is number => v !== undefined);
  const fromEnd = samples.map((s) => span(s, 'endOfRun', 'client')).filter((v): v is number => v !== undefined);
  const preview = percentile(samples.map((s) => s.previewBytes), 50);
  const out: Figure[] = [
    {
      name: `${label}: execution_success -> image result in client (in process), p50`,
      value: percentile(total, 50),
      unit: 'ms',
      ...(targets ? { target: { op: '<=' as const, value: 20 } } : {}),
      note: `over ${total.length} calls; from the end-of-run frame p50 ${fmt(percentile(fromEnd, 50))} ms; preview ${(preview / 1024).toFixed(0)} KiB JPEG`,
    },
    {
      name: `${label}: execution_success -> image result in client (in process), p95`,
      value: percentile(total, 95),
      unit: 'ms',
      ...(targets ? { target: { op: '<=' as const, value: 50 } } : {}),
      note: `p50 per step (ms): ${breakdown(samples)}`,
    },
  ];
  if (stdio.length) {
    out.push({
      name: `${label}: execution_success -> image result in client (stdio, built server), p50`,
      value: percentile(stdio, 50),
      unit: 'ms',
      ...(targets ? { target: { op: '<=' as const, value: 20 } } : {}),
      note: `p95 ${fmt(percentile(stdio, 95))} ms over ${stdio.length} calls; ComfyUI's execution_success timestamp -> Date.now() in the client (1 ms resolution)`,
    });
  }
  return out;
}

/** The simulator: one 512x512 PNG per call (sd15-txt2img, one step, no sampler delay). */
export async function benchMcpImage(calls = 60, stdioCalls = 30, freshServers = 5): Promise<Figure[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'comfywire-bench-image-sim-'));
  const sim = await startSimulator({ port: 0, stepDelayMs: 0, historyWriteDelayMs: REAL_HISTORY_GAP_MS, dataDir });
  const spec = { comfyUrl: sim.url, args: { workflow: 'sd15-txt2img', prompt: 'a lighthouse on a rocky coast at sunset', width: 512, height: 512, steps: 1 } };
  try {
    const inProcess = await openInProcess(spec);
    const samples = await collect(inProcess, calls, 5).finally(() => inProcess.close());
    const stdio = await openStdio(spec);
    const stdioSamples = await collect(stdio, stdioCalls, 3).finally(() => stdio.close());
    // A user's first render is a fresh server's first: nothing warmed by earlier calls.
    const firsts: number[] = [];
    for (let i = 0; i < freshServers; i++) {
      const fresh = await openStdio(spec);
      firsts.push(...(await collect(fresh, 1, 0).finally(() => fresh.close())));
    }
    return [
      ...figures('simulator 512x512 PNG', samples, stdioSamples, true),
      {
        name: "simulator 512x512 PNG: a fresh server's first image result (stdio), median",
        value: percentile(firsts, 50),
        unit: 'ms',
        note: `execution_success -> client, the first call of each of ${freshServers} fresh servers: ${firsts.join(', ')} ms`,
      },
    ];
  } finally {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A real ComfyUI (COMFYWIRE_REAL_COMFYUI_URL, on this machine: the clocks are compared): a few
 * small renders, each 20-60 s on a CPU, so only a handful, in process and over stdio in turn (the
 * same conditions for both). Skipped with a note when unset.
 */
export async function benchMcpImageReal(): Promise<Figure[]> {
  const url = process.env['COMFYWIRE_REAL_COMFYUI_URL']?.replace(/\/+$/, '');
  if (!url) {
    return [{ name: 'real ComfyUI: execution_success -> image result (skipped)', value: NaN, unit: '', note: 'set COMFYWIRE_REAL_COMFYUI_URL=http://127.0.0.1:8191 to run it' }];
  }
  const runs = Number(process.env['COMFYWIRE_BENCH_REAL_RUNS'] ?? 3);
  const spec = {
    comfyUrl: url,
    args: {
      workflow: 'sd15-txt2img',
      prompt: 'a lighthouse',
      width: 64,
      height: 64,
      steps: 2,
      checkpoint: process.env['COMFYWIRE_REAL_CHECKPOINT'] ?? 'sd15-random.safetensors',
      timeout_s: 1200,
    },
  };
  const inProcess = await openInProcess(spec);
  const stdio = await openStdio(spec).catch(async (e: unknown) => {
    await inProcess.close();
    throw e;
  });
  // Every render counts, the first too: a user's first render is a fresh server's first.
  const samples: Sample[] = [];
  const stdioSamples: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      samples.push(await inProcess.call());
      stdioSamples.push(await stdio.call());
    }
  } finally {
    await inProcess.close();
    await stdio.close();
  }
  const figs = figures('real ComfyUI 64x64 PNG', samples, stdioSamples, false);
  const list = (xs: Array<number | undefined>) => xs.map((v) => (v === undefined ? '?' : v.toFixed(0))).join(', ');
  figs.push(
    {
      name: 'real ComfyUI: execution_success timestamp -> result (in process), p50',
      value: percentile(samples.flatMap((s) => (s.sinceComfyMs === undefined ? [] : [s.sinceComfyMs])), 50),
      unit: 'ms',
      note: `runs in order: ${list(samples.map((s) => s.sinceComfyMs))} ms; stdio in order: ${list(stdioSamples)} ms`,
    },
    {
      name: "real ComfyUI: its own delay, execution_success timestamp -> frame on our socket, p50",
      value: percentile(samples.flatMap((s) => (s.frameLagMs === undefined ? [] : [s.frameLagMs])), 50),
      unit: 'ms',
      note: `runs in order: ${list(samples.map((s) => s.frameLagMs))} ms (ComfyUI sends its queued frames once its worker thread lets go of the GIL)`,
    },
    {
      name: 'real ComfyUI: each run, ms (frame lag / success -> end of run / download / preview+result / total)',
      value: samples.length,
      unit: 'runs',
      note: samples
        .map((s) => [s.frameLagMs, span(s, 'success', 'endOfRun'), span(s, 'over', 'downloaded'), span(s, 'settled', 'built'), s.sinceComfyMs].map((v) => (v === undefined ? '?' : v.toFixed(0))).join(' / '))
        .join('; '),
    },
  );
  return figs;
}
