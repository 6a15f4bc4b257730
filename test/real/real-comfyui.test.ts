import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startStdioServer, type StdioServer } from '../helpers/mcp-stdio.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { eventually, within } from '../helpers/wait.js';
import { encodeWav } from '../helpers/media.js';
import { parseFlacHeader } from '../../src/media/flac.js';
import sharp from 'sharp';

/**
 * comfywire against a REAL ComfyUI, driven the way an agent drives it: the built bundle spawned as
 * an MCP server on stdio and called with the SDK's Client. Opt-in: it runs only when
 * COMFYWIRE_REAL_COMFYUI_URL names a ComfyUI (`npm run test:real` builds first). The server needs
 * an SD 1.5 checkpoint (the test peer's random-weights `sd15-random.safetensors`, or set
 * COMFYWIRE_REAL_CHECKPOINT) and, for the run-time failure, the peer's Harness custom nodes.
 *
 * Renders on a CPU ComfyUI take seconds per sampling step, many more on a busy machine, so every
 * wait is a bounded poll on a condition with minutes of slack, never a fixed sleep. Scenarios run
 * one after another (ComfyUI runs one prompt at a time anyway) and each logs its duration and key
 * figures; COMFYWIRE_REAL_RESULTS=<file> also writes them there as a markdown table.
 */

const REAL_URL = process.env['COMFYWIRE_REAL_COMFYUI_URL']?.replace(/\/+$/, '');
const CHECKPOINT = process.env['COMFYWIRE_REAL_CHECKPOINT'] ?? 'sd15-random.safetensors';
const RESULTS_FILE = process.env['COMFYWIRE_REAL_RESULTS'];
const HERE = dirname(fileURLToPath(import.meta.url));

const MIN = 60_000;
/** SDK request options for a generate call: the SDK's default 60 s would cut renders on a busy CPU. */
const LONG_CALL: RequestOptions = { timeout: 20 * MIN };
/**
 * Small and fast: ~22 s on an idle 2-core machine (mostly 6 KSampler steps of ~2 s). timeout_s
 * replaces the server's default wait (50 s), after which a call answers with a handle instead of
 * the image: a busy machine can take longer than that even for this.
 */
const SMALL = { width: 128, height: 128, steps: 6, checkpoint: CHECKPOINT, timeout_s: 1200 } as const;

if (!REAL_URL) process.stderr.write('real-comfyui: skipped (set COMFYWIRE_REAL_COMFYUI_URL=http://host:port to run it against a real ComfyUI)\n');
const suite = REAL_URL ? describe : describe.skip;

type Structured = Record<string, unknown>;
interface JobView {
  prompt_id: string;
  status: string;
  progress: number;
  settled: boolean;
  elapsed_ms?: number;
  queue_position?: number;
  current_node?: { id: string; class_type?: string; value?: number; max?: number };
  files: Array<{ path: string; kind: string; bytes: number }>;
  error?: { node_id: string; class_type: string; exception_type: string; exception_message: string; hints: string[] };
  interrupted_at?: { id: string; class_type?: string };
}
interface GenerateOut {
  prompt_id: string;
  status: string;
  seed?: number;
  duration_ms?: number;
  queue_position?: number;
  files: Array<{ path: string; kind: string; bytes: number }>;
  notes: string[];
  cancel_outcome?: string;
}
interface HistoryEntry {
  status?: { status_str: string; completed: boolean; messages: Array<[string, { timestamp?: number }]> };
  outputs: Record<string, unknown>;
}

const text = (r: CallToolResult) => r.content.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('\n');
const images = (r: CallToolResult) => r.content.filter((c) => c.type === 'image') as Array<{ data: string; mimeType: string }>;
const out = (r: CallToolResult) => r.structuredContent as unknown as GenerateOut;
const since = (t0: number) => Date.now() - t0;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Width and height from a PNG's IHDR chunk (bytes 16..23). */
function pngSize(path: string): { width: number; height: number } {
  const buf = readFileSync(path);
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

// ---- ComfyUI's own view, over plain HTTP (what the tests check comfywire's claims against) ----

async function comfyJson<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
async function comfyHistory(id: string): Promise<HistoryEntry | undefined> {
  return (await comfyJson<Record<string, HistoryEntry>>(REAL_URL!, `/history/${encodeURIComponent(id)}`))[id];
}
async function comfyQueue(): Promise<{ running: string[]; pending: string[] }> {
  const q = await comfyJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(REAL_URL!, '/queue');
  return { running: q.queue_running.map((i) => String(i[1])), pending: q.queue_pending.map((i) => String(i[1])) };
}
const historyMessages = (h: HistoryEntry | undefined) => (h?.status?.messages ?? []).map((m) => m[0]);
const historyTime = (h: HistoryEntry | undefined, type: string) => h?.status?.messages.find((m) => m[0] === type)?.[1].timestamp;

// ---- the built server over stdio ----

type Comfywire = StdioServer;

function startComfywire(comfyUrl: string, workflowsDir: string, outputDir: string): Promise<Comfywire> {
  return startStdioServer({
    comfyUrl,
    workflowsDir,
    outputDir,
    cwd: dirname(outputDir),
    // No local event feed: this suite has no `tail --attach`, and the machine is shared.
    env: { COMFYWIRE_FEED: 'off' },
    clientName: 'real-comfyui-suite',
  });
}

suite('comfywire against a real ComfyUI (COMFYWIRE_REAL_COMFYUI_URL)', () => {
  let work: string;
  let workflowsDir: string;
  let cw: Comfywire;
  const results: Array<{ scenario: string; ms: number; outcome: string; figures: string }> = [];

  /** The server's log tail, attached to a failed expectation so a failure on a shared machine explains itself. */
  const explain = (r: CallToolResult, server: Comfywire = cw) => `${text(r)}\n--- comfywire stderr (tail) ---\n${server.stderr().slice(-3000)}`;
  const expectSuccess = (r: CallToolResult, server: Comfywire = cw) => {
    if (r.isError || out(r)?.status !== 'success') throw new Error(`expected a successful render, got:\n${explain(r, server)}`);
  };
  const status = async (id: string, server: Comfywire = cw): Promise<JobView> => {
    const r = await server.call('get_workflow_status', { prompt_id: id });
    if (r.isError) throw new Error(`get_workflow_status ${id}: ${explain(r, server)}`);
    return (r.structuredContent as { job: JobView }).job;
  };

  /** One scenario: timed, its figures logged as it ends (pass or fail) and kept for the summary. */
  const scenario = (name: string, timeoutMs: number, body: (figures: string[]) => Promise<void>) =>
    it(
      name,
      async () => {
        const figures: string[] = [];
        const t0 = Date.now();
        let outcome = 'passed';
        try {
          await body(figures);
        } catch (error) {
          outcome = `FAILED: ${String((error as Error).message ?? error).split('\n')[0]}`;
          throw error;
        } finally {
          const ms = since(t0);
          results.push({ scenario: name, ms, outcome, figures: figures.join('; ') });
          process.stderr.write(`real-comfyui: [${outcome}] ${name}: ${secs(ms)}${figures.length ? ` | ${figures.join('; ')}` : ''}\n`);
        }
      },
      timeoutMs,
    );

  beforeAll(async () => {
    const stats = await comfyJson<{ system: { comfyui_version?: string } }>(REAL_URL!, '/system_stats');
    const checkpoints = await comfyJson<string[]>(REAL_URL!, '/models/checkpoints');
    if (!checkpoints.includes(CHECKPOINT)) {
      throw new Error(`${REAL_URL} has no checkpoint ${CHECKPOINT} (it has: ${checkpoints.join(', ') || 'none'}); set COMFYWIRE_REAL_CHECKPOINT`);
    }
    process.stderr.write(`real-comfyui: ComfyUI ${stats.system.comfyui_version ?? '?'} at ${REAL_URL}, checkpoint ${CHECKPOINT}\n`);

    work = mkdtempSync(join(tmpdir(), 'comfywire-real-'));
    // The shipped templates plus this suite's own (the Harness failure template and its sidecar).
    workflowsDir = join(work, 'workflows');
    mkdirSync(workflowsDir);
    for (const dir of [WORKFLOWS_DIR, join(HERE, 'workflows')]) {
      for (const f of readdirSync(dir)) if (f.endsWith('.json')) copyFileSync(join(dir, f), join(workflowsDir, f));
    }
    cw = await startComfywire(REAL_URL!, workflowsDir, join(work, 'outputs'));
  }, 2 * MIN);

  afterEach(async () => {
    // A scenario that failed half-way must not leave its render to slow down the next ones.
    if (!cw) return;
    const r = await cw.call('get_workflow_status', { recent: 20 }).catch(() => undefined);
    const recent = ((r?.structuredContent as { recent?: Array<{ prompt_id: string; status: string }> } | undefined)?.recent ?? []);
    for (const j of recent.filter((j) => j.status === 'queued' || j.status === 'running')) {
      await cw.call('cancel_job', { prompt_id: j.prompt_id }).catch(() => undefined);
    }
  }, 2 * MIN);

  afterAll(async () => {
    await cw?.close();
    if (work && !process.env['COMFYWIRE_REAL_KEEP']) rmSync(work, { recursive: true, force: true });
    if (!results.length) return;
    const table = [
      '| scenario | duration | outcome | figures |',
      '| --- | --- | --- | --- |',
      ...results.map((r) => `| ${r.scenario} | ${secs(r.ms)} | ${r.outcome} | ${r.figures.replace(/\|/g, '\\|')} |`),
    ].join('\n');
    process.stderr.write(`real-comfyui results:\n${table}\n`);
    if (RESULTS_FILE) writeFileSync(RESULTS_FILE, `# comfywire against ${REAL_URL} (${new Date().toISOString()})\n\n${table}\n`);
  });

  scenario('1. SD 1.5 txt2img 128x128, 6 steps: rising progress with KSampler steps, inline image and a PNG on disk', 10 * MIN, async (fig) => {
    const progress: number[] = [];
    const messages: string[] = [];
    const t0 = Date.now();
    // No checkpoint argument: the template names v1-5-pruned-emaonly, which the peer lacks, so
    // this also checks that comfywire picks the installed SD 1.5 file by itself.
    const { checkpoint: _, ...args } = SMALL;
    const r = await cw.call('generate_image', { prompt: 'a lighthouse at dusk, oil painting', ...args }, {
      ...LONG_CALL,
      onprogress: (p) => (progress.push(p.progress), messages.push(p.message ?? '')),
    });
    const ms = since(t0);
    expectSuccess(r);
    const s = out(r);

    const checkpoints = await comfyJson<string[]>(REAL_URL!, '/models/checkpoints');
    if (!checkpoints.includes('v1-5-pruned-emaonly.safetensors')) expect(s.notes.join('\n')).toMatch(/using \S+\.safetensors instead/);

    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
    expect(progress.at(-1)).toBe(100);
    const steps = messages.map((m) => /KSampler step (\d+)\/6/.exec(m)).filter((m) => m !== null).map((m) => Number(m[1]));
    expect(steps.length).toBeGreaterThan(0);
    for (let i = 1; i < steps.length; i++) expect(steps[i]!).toBeGreaterThanOrEqual(steps[i - 1]!);

    const inline = images(r);
    expect(inline.length).toBe(1);
    const inlineBytes = Buffer.from(inline[0]!.data, 'base64').length;
    expect(inlineBytes).toBeGreaterThan(0);
    const file = s.files[0]!;
    expect(isAbsolute(file.path)).toBe(true);
    expect(existsSync(file.path)).toBe(true);
    expect(text(r)).toContain(file.path);
    expect(pngSize(file.path)).toEqual({ width: 128, height: 128 });
    fig.push(
      `call ${secs(ms)}, job ${secs(s.duration_ms ?? NaN)}`,
      `${progress.length} progress notifications, final ${progress.at(-1)}`,
      `KSampler steps seen ${[...new Set(steps)].join(',')}`,
      `inline ${inline[0]!.mimeType} ${inlineBytes} B`,
      `PNG ${file.bytes} B 128x128`,
      `note: ${s.notes.join(' ') || 'none'}`,
    );
  });

  scenario('2. a plain call longer than 60 s (128x128, 40 steps) with resetTimeoutOnProgress returns the image', 25 * MIN, async (fig) => {
    const progress: number[] = [];
    const arrivals: number[] = [];
    const t0 = Date.now();
    // A plain call, no task augmentation: the server wraps it in a task internally, which is
    // where calls over 30 s used to lose their result ("Task with ID ... not found").
    const r = await cw.call('generate_image', { prompt: 'a long render', ...SMALL, steps: 40, timeout_s: 600 }, {
      timeout: 3 * MIN,
      resetTimeoutOnProgress: true,
      maxTotalTimeout: 25 * MIN,
      onprogress: (p) => (progress.push(p.progress), arrivals.push(Date.now())),
    });
    const ms = since(t0);
    expectSuccess(r);
    expect(ms).toBeGreaterThan(60_000);
    expect(images(r).length).toBe(1);
    expect(existsSync(out(r).files[0]!.path)).toBe(true);
    expect(progress.at(-1)).toBe(100);
    const gaps = arrivals.map((t, i) => t - (arrivals[i - 1] ?? t0));
    fig.push(
      `call ${secs(ms)} (> 60 s), job ${secs(out(r).duration_ms ?? NaN)}`,
      `${progress.length} progress notifications, longest gap ${secs(Math.max(...gaps))}`,
      `file ${out(r).files[0]!.bytes} B`,
    );
  });

  scenario('3a. cancel_job while KSampler runs: interrupted in ComfyUI (history has execution_interrupted)', 10 * MIN, async (fig) => {
    const h = await cw.call('generate_image', { prompt: 'cancel me while running', ...SMALL, steps: 30, wait: false });
    expect(h.isError).toBeFalsy();
    const id = out(h).prompt_id;
    const running = await eventually(async () => {
      const j = await status(id);
      return j.current_node?.class_type === 'KSampler' && (j.current_node.value ?? 0) >= 1 ? j : undefined;
    }, 8 * MIN, 500);
    const t0 = Date.now();
    const c = await cw.call('cancel_job', { prompt_id: id });
    expect(c.isError).toBeFalsy();
    expect((c.structuredContent as Structured)['outcome']).toBe('interrupted');

    // ComfyUI stops at the next step boundary, then writes the history entry.
    const entry = await eventually(async () => {
      const e = await comfyHistory(id);
      return e?.status ? e : undefined;
    }, 5 * MIN, 500);
    const stopMs = since(t0);
    expect(historyMessages(entry)).toContain('execution_interrupted');
    expect(entry.status!.status_str).toBe('error');
    const q = await comfyQueue();
    expect([...q.running, ...q.pending]).not.toContain(id);
    const j = await eventually(async () => {
      const v = await status(id);
      return v.status === 'interrupted' ? v : undefined;
    }, MIN, 500);
    expect(j.interrupted_at?.class_type).toBe('KSampler');
    fig.push(
      `cancelled at KSampler step ${running.current_node!.value}/${running.current_node!.max}`,
      `history entry ${secs(stopMs)} after cancel_job`,
      `history messages ${historyMessages(entry).join(',')}`,
      `comfywire status ${j.status} at ${j.interrupted_at?.class_type}`,
    );
  });

  scenario('3b. cancel_job on a job queued behind another (dequeued), then cancelling the running call\'s request', 12 * MIN, async (fig) => {
    // A: a plain call whose request the client cancels later (the agent pressing Esc).
    const controller = new AbortController();
    let ksampler!: () => void;
    const aRunning = new Promise<void>((r) => (ksampler = r));
    let aId: string | undefined;
    const aCall = cw
      .call('generate_image', { prompt: 'first, cancelled by its request', ...SMALL, steps: 30 }, {
        ...LONG_CALL,
        signal: controller.signal,
        onprogress: (p) => {
          if (/KSampler step/.test(p.message ?? '')) ksampler();
        },
      })
      .then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      );
    expect(await within(aRunning, 8 * MIN)).not.toBe('timeout');

    // B: queued behind A.
    const b = await cw.call('generate_image', { prompt: 'second, dequeued', ...SMALL, wait: false });
    expect(b.isError).toBeFalsy();
    const bId = out(b).prompt_id;
    const qBefore = await comfyQueue();
    expect(qBefore.pending).toContain(bId);
    aId = qBefore.running[0];
    const bView = await status(bId);
    expect(bView.status).toBe('queued');

    const c = await cw.call('cancel_job', { prompt_id: bId });
    expect(c.isError).toBeFalsy();
    expect((c.structuredContent as Structured)['outcome']).toBe('dequeued');
    const qAfter = await comfyQueue();
    expect([...qAfter.running, ...qAfter.pending]).not.toContain(bId);
    expect(await comfyHistory(bId)).toBeUndefined();
    const bAfter = await eventually(async () => {
      const v = await status(bId);
      return v.status === 'cancelled' ? v : undefined;
    }, MIN, 300);

    // Cancelling A's request interrupts A in ComfyUI.
    const t0 = Date.now();
    controller.abort();
    const aResult = await aCall;
    expect(aResult.ok).toBe(false);
    expect(aId).toBeDefined();
    const entry = await eventually(async () => {
      const e = await comfyHistory(aId!);
      return e?.status ? e : undefined;
    }, 5 * MIN, 500);
    expect(historyMessages(entry)).toContain('execution_interrupted');
    // B never ran, so nothing was written for it even after A ended.
    expect(await comfyHistory(bId)).toBeUndefined();
    expect((await comfyQueue()).pending).not.toContain(bId);
    fig.push(
      `B queue position ${bView.queue_position ?? '?'} -> dequeued, comfywire status ${bAfter.status}, /history/B {}`,
      `A interrupted ${secs(since(t0))} after the request was cancelled (history ${historyMessages(entry).join(',')})`,
    );
  });

  scenario('4. two concurrent generate_image calls both return their images (the second waits in the queue)', 15 * MIN, async (fig) => {
    const messages: string[][] = [[], []];
    const t0 = Date.now();
    const calls = [0, 1].map((i) =>
      cw.call('generate_image', { prompt: `concurrent ${i}`, ...SMALL }, { ...LONG_CALL, onprogress: (p) => messages[i]!.push(p.message ?? '') }),
    );
    const [r0, r1] = await Promise.all(calls);
    const ms = since(t0);
    for (const r of [r0!, r1!]) {
      expectSuccess(r);
      expect(images(r).length).toBe(1);
      expect(existsSync(out(r).files[0]!.path)).toBe(true);
    }
    expect(out(r0!).prompt_id).not.toBe(out(r1!).prompt_id);
    expect(out(r0!).files[0]!.path).not.toBe(out(r1!).files[0]!.path);
    // ComfyUI ran them one after the other: the later one started after the earlier one ended.
    const [h0, h1] = await Promise.all([comfyHistory(out(r0!).prompt_id), comfyHistory(out(r1!).prompt_id)]);
    const span = (h: HistoryEntry | undefined) => [historyTime(h, 'execution_start')!, historyTime(h, 'execution_success')!] as const;
    const [first, second] = [span(h0), span(h1)].sort((a, b) => a[0] - b[0]);
    expect(second![0]).toBeGreaterThanOrEqual(first![1]);
    const queuedMsgs = messages.map((m) => m.filter((x) => /^queued/.test(x)));
    fig.push(
      `both in ${secs(ms)}`,
      `jobs ${secs(out(r0!).duration_ms ?? NaN)} and ${secs(out(r1!).duration_ms ?? NaN)}`,
      `second started ${secs(second![0] - first![1])} after the first ended`,
      `queue messages: [${queuedMsgs[0]!.join(' / ')}] and [${queuedMsgs[1]!.join(' / ')}]`,
    );
  });

  scenario('5. a run-time failure (HarnessFail) is an isError result naming the node, class and exception', 5 * MIN, async (fig) => {
    const message = `boom from the real-ComfyUI suite ${Date.now()}`;
    const t0 = Date.now();
    // timeout_s: a busy peer can hold this prompt in its queue past the default 50 s wait, and the
    // call would then answer with a handle; what is tested here is the failure's result.
    const r = await cw.call('generate_image', { workflow: 'harness-fail', params: { message }, timeout_s: 1200 }, LONG_CALL);
    const ms = since(t0);
    expect(r.isError).toBe(true);
    const t = text(r);
    expect(t).toContain('HarnessFail');
    expect(t).toContain(`HarnessFail: ${message}`);
    expect(t).toMatch(/RuntimeError/);
    expect(t).toMatch(/node 2\b/);
    const id = /Job (\S+) failed/.exec(t)?.[1];
    expect(id).toBeDefined();
    const j = await status(id!);
    expect(j.status).toBe('error');
    expect(j.error).toMatchObject({ node_id: '2', class_type: 'HarnessFail', exception_type: 'RuntimeError' });
    expect(j.error!.exception_message).toContain(message);
    const h = await comfyHistory(id!);
    expect(historyMessages(h)).toContain('execution_error');
    fig.push(`isError in ${secs(ms)}`, `first line: ${t.split('\n')[0]}`, `${j.error!.hints.length} hint(s)`);
  });

  scenario('6. connections cut mid-render (TCP proxy): the job still completes and the image is downloaded', 12 * MIN, async (fig) => {
    const target = new URL(REAL_URL!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 80) });
    const viaProxy = await startComfywire(proxy.url, workflowsDir, join(work, 'outputs-proxy'));
    try {
      const messages: Array<{ t: number; m: string }> = [];
      let cut!: () => void;
      const atKSampler = new Promise<void>((r) => (cut = r));
      const call = viaProxy.call('generate_image', { prompt: 'through a flaky link', ...SMALL, steps: 10 }, {
        ...LONG_CALL,
        onprogress: (p) => {
          messages.push({ t: Date.now(), m: p.message ?? '' });
          if (/KSampler step [12]\//.test(p.message ?? '')) cut();
        },
      });
      expect(await within(atKSampler, 8 * MIN)).not.toBe('timeout');
      const acceptedBefore = proxy.accepted;
      const cutAt = Date.now();
      const cutCount = proxy.cutAll();
      expect(cutCount).toBeGreaterThanOrEqual(1); // at least the WebSocket

      const r = await call;
      expectSuccess(r, viaProxy);
      expect(images(r).length).toBe(1);
      const file = out(r).files[0]!;
      expect(existsSync(file.path)).toBe(true);
      expect(pngSize(file.path)).toEqual({ width: 128, height: 128 });
      // It reconnected through the proxy and live step events came back on the new socket.
      expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
      const stepOf = (m: string) => Number(/KSampler step (\d+)\//.exec(m)?.[1] ?? NaN);
      const cutStep = Math.max(...messages.filter((x) => x.t <= cutAt).map((x) => stepOf(x.m)).filter((n) => !Number.isNaN(n)));
      const stepsAfter = messages.filter((x) => x.t > cutAt && /KSampler step/.test(x.m)).map((x) => /step (\d+\/\d+)/.exec(x.m)![1]);
      // Not only heartbeats repeating the step of the cut: newer steps, from the new socket.
      expect(Math.max(...messages.filter((x) => x.t > cutAt).map((x) => stepOf(x.m)).filter((n) => !Number.isNaN(n)))).toBeGreaterThan(cutStep);
      const reconnectLog = viaProxy.stderr().split('\n').filter((l) => /reconnect|Connected to the ComfyUI WebSocket|resync/i.test(l));
      fig.push(
        `cut ${cutCount} live connection(s) at "${messages.find((x) => /KSampler step/.test(x.m))?.m}"`,
        `${proxy.accepted - acceptedBefore} new connection(s) after the cut`,
        `KSampler steps after the cut: ${[...new Set(stepsAfter)].join(',')}`,
        `done ${secs(out(r).duration_ms ?? NaN)}, PNG ${file.bytes} B`,
        `server log: ${reconnectLog.map((l) => l.replace(/^\S+ \w+ /, '').slice(0, 90)).join(' / ')}`,
      );
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  scenario('7. get_workflow_status shows live KSampler steps rising while a render runs', 10 * MIN, async (fig) => {
    // A bounded wait of 1 s: the call hands back a handle while the render goes on.
    const h = await cw.call('generate_image', { prompt: 'watched from outside', ...SMALL, steps: 8, timeout_s: 1 });
    expect(h.isError).toBeFalsy();
    const id = out(h).prompt_id;
    expect(['queued', 'running']).toContain(out(h).status);
    const samples: Array<{ value: number; max: number }> = [];
    let polls = 0;
    const final = await eventually(async () => {
      const j = await status(id);
      polls++;
      const n = j.current_node;
      if (n?.class_type === 'KSampler' && n.value !== undefined && n.max !== undefined) samples.push({ value: n.value, max: n.max });
      return j.status !== 'queued' && j.status !== 'running' && j.settled ? j : undefined;
    }, 8 * MIN, 400);
    expect(final.status).toBe('success');
    expect(final.files.length).toBe(1);
    // ComfyUI marks a node it starts as 0/1 (progress_state) until the sampler's first step
    // reports x/8; after that every sample is on the sampler's own scale.
    const seen = [...new Set(samples.map((s) => `${s.value}/${s.max}`))];
    const firstStep = samples.findIndex((s) => s.max !== 1);
    expect(firstStep).toBeGreaterThanOrEqual(0);
    expect(samples.slice(0, firstStep).every((s) => s.value === 0 && s.max === 1)).toBe(true);
    const steps = samples.slice(firstStep);
    expect(steps.every((s) => s.max === 8)).toBe(true);
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.value).toBeGreaterThanOrEqual(steps[i - 1]!.value);
    expect(new Set(steps.map((s) => s.value)).size).toBeGreaterThanOrEqual(2);
    fig.push(`handle status ${out(h).status}`, `${polls} polls`, `KSampler value/max seen in order: ${seen.join(', ')}`, `job ${secs(final.elapsed_ms ?? NaN)} running`);
  });

  scenario('8. outputs of every kind the core savers write: animated WebP, H.264 MP4, FLAC, latent; listed, previewed, on disk', 10 * MIN, async (fig) => {
    // LoadAudio reads from ComfyUI's input folder: the WAV goes up the way the editor uploads one.
    const form = new FormData();
    form.append('image', new Blob([encodeWav({ seconds: 1.25, sampleRate: 8000 })], { type: 'audio/wav' }), 'comfywire-real-tone.wav');
    form.append('overwrite', 'true');
    const up = await fetch(`${REAL_URL}/upload/image`, { method: 'POST', body: form, signal: AbortSignal.timeout(30_000) });
    expect(up.status).toBe(200);
    const t0 = Date.now();
    const r = await cw.call('generate_image', { workflow: 'real-media', params: { color: 0xdc143c, fps: 8 }, timeout_s: 1200 }, LONG_CALL);
    expectSuccess(r);
    const files = (r.structuredContent as { files: Array<{ filename: string; path: string; kind: string; mime: string; bytes: number; width?: number; height?: number; frames?: number; duration_s?: number }> }).files;
    const byKind = Object.fromEntries(files.map((f) => [f.kind, f]));
    expect(files.map((f) => f.kind).sort()).toEqual(['animated', 'audio', 'latent', 'video']);
    for (const f of files) expect(readFileSync(f.path).length).toBe(f.bytes);
    expect(byKind['animated']).toMatchObject({ mime: 'image/webp', width: 64, height: 48, frames: 4, duration_s: 0.5 });
    // SaveVideo lists its MP4 under `images` with `animated: [true]`; the extension makes it a video.
    expect(byKind['video']).toMatchObject({ mime: 'video/mp4', width: 64, height: 48 });
    expect(byKind['video']!.duration_s).toBeCloseTo(0.5, 1);
    expect(byKind['audio']).toMatchObject({ mime: 'audio/flac' });
    expect(byKind['audio']!.duration_s).toBeCloseTo(1.25, 2);
    expect(byKind['latent']!.path).toMatch(/\.latent$/);

    // The poster: the first frame of the MP4, crimson, at its size; the WebP's contact sheet; the FLAC as audio content.
    const shown = images(r);
    expect(shown).toHaveLength(2);
    const metas = await Promise.all(shown.map((i) => sharp(Buffer.from(i.data, 'base64')).raw().toBuffer({ resolveWithObject: true })));
    const poster = metas.find((m) => m.info.width === 64 && m.info.height === 48)!;
    expect(poster).toBeDefined();
    const at = (24 * 64 + 32) * poster.info.channels;
    expect(Math.abs(poster.data[at]! - 0xdc) + Math.abs(poster.data[at + 1]! - 0x14) + Math.abs(poster.data[at + 2]! - 0x3c)).toBeLessThan(60);
    expect(metas.some((m) => m.info.width === 4 * 64)).toBe(true);
    const audio = r.content.filter((c) => c.type === 'audio') as Array<{ data: string; mimeType: string }>;
    expect(audio).toHaveLength(1);
    expect(audio[0]!.mimeType).toBe('audio/flac');
    expect(parseFlacHeader(Buffer.from(audio[0]!.data, 'base64'))?.durationS).toBeCloseTo(1.25, 2);
    fig.push(`${secs(since(t0))}`, files.map((f) => `${f.kind} ${f.bytes} B${f.duration_s !== undefined ? ` ${f.duration_s} s` : ''}`).join(', '));
  });

  scenario('9. the sd15-video template (frames -> CreateVideo -> SaveVideo): an H.264 MP4 of frames/fps seconds, its poster at the frame size', 10 * MIN, async (fig) => {
    const t0 = Date.now();
    const r = await cw.call('generate_image', { workflow: 'sd15-video', prompt: 'a lighthouse', ...SMALL, width: 64, height: 64, steps: 2, params: { frames: 6, fps: 8 } }, LONG_CALL);
    expectSuccess(r);
    const files = (r.structuredContent as { files: Array<{ path: string; kind: string; mime: string; bytes: number; width?: number; height?: number; duration_s?: number }> }).files;
    expect(files).toHaveLength(1);
    const [video] = files;
    expect(video).toMatchObject({ kind: 'video', mime: 'video/mp4', width: 64, height: 64 });
    expect(video!.duration_s).toBeCloseTo(6 / 8, 1);
    expect(readFileSync(video!.path).subarray(4, 8).toString('latin1')).toBe('ftyp');
    const [poster] = images(r);
    expect(poster).toBeDefined();
    const meta = await sharp(Buffer.from(poster!.data, 'base64')).metadata();
    expect([meta.width, meta.height]).toEqual([64, 64]);
    fig.push(`${secs(since(t0))}`, `mp4 ${video!.bytes} B, ${video!.duration_s} s, ${video!.width}x${video!.height}`);
  });
});

