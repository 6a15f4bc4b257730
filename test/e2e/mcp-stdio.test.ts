import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { exitOf, startCli } from '../helpers/cli.js';
import { startStdioServer, type StdioServer } from '../helpers/mcp-stdio.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { eventually } from '../helpers/wait.js';

/**
 * The built server spawned over stdio and driven by the real MCP SDK client, against the
 * simulator: what Claude Code, VS Code or Cursor would see. Any stray byte on the server's
 * stdout would break the client's framing, so every passing call also proves stdout is clean.
 */

type Structured = Record<string, unknown>;

describe('comfywire MCP server over stdio', () => {
  let sim: Simulator;
  let work: string;
  let client: Client;
  let server: StdioServer;
  let serverPid: number | null = null;

  const call = (name: string, args: Record<string, unknown> = {}, options?: Parameters<Client['callTool']>[2]) =>
    client.callTool({ name, arguments: args }, undefined, options) as Promise<CallToolResult>;
  const text = (r: CallToolResult) => r.content.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('\n');

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, stepDelayMs: 15 });
    work = mkdtempSync(join(tmpdir(), 'comfywire-e2e-'));
    server = await startStdioServer({
      comfyUrl: sim.url,
      cwd: work,
      outputDir: join(work, 'outputs'),
      workflowsDir: WORKFLOWS_DIR,
      clientName: 'e2e',
      // A dozen generation calls in a few seconds: past the default burst of 5. The other limits
      // stay at their defaults; mcp-stdio-limits.test.ts runs the generation limit as shipped.
      env: { COMFYWIRE_GENERATE_BURST: '50', COMFYWIRE_CALL_LOG: join(work, 'state', 'calls.jsonl') },
    });
    client = server.client;
    serverPid = server.pid;
  });

  afterAll(async () => {
    await client?.close();
    await sim?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('lists every tool, each with an output schema; read-only tools are annotated', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      expect.arrayContaining(['cancel_job', 'generate_image', 'get_queue', 'get_system_stats', 'get_workflow_status', 'list_models', 'list_workflows', 'upload_image']),
    );
    for (const t of tools) expect(t.outputSchema).toBeDefined();
    expect(tools.find((t) => t.name === 'list_workflows')!.annotations?.readOnlyHint).toBe(true);
    expect(client.getInstructions()).toMatch(/generate_image/);
  });

  it('generate_image: rising progress with the final one, inline image within budget, paths to full files', async () => {
    const progress: number[] = [];
    const messages: string[] = [];
    const r = await call(
      'generate_image',
      { prompt: 'a lighthouse at dusk', seed: 3, steps: 10, width: 512, height: 512 },
      { onprogress: (p) => (progress.push(p.progress), messages.push(p.message ?? '')) },
    );
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as Structured & { files: Array<{ path: string }>; seed: number; prompt_id: string };
    expect(s.status).toBe('success');
    expect(s.seed).toBe(3);
    expect(existsSync(s.files[0]!.path)).toBe(true);
    expect(text(r)).toContain(s.files[0]!.path);
    const image = r.content.find((c) => c.type === 'image') as { data: string; mimeType: string } | undefined;
    expect(image).toBeDefined();
    expect(Buffer.from(image!.data, 'base64').length).toBeLessThanOrEqual(200 * 1024);
    expect(r.content.some((c) => c.type === 'resource_link')).toBe(true);
    expect(progress.length).toBeGreaterThan(2);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
    expect(progress.at(-1)).toBe(100);
    expect(messages.some((m) => /KSampler/.test(m))).toBe(true);
  });

  it('logs every tool call to the call log file, created private', async () => {
    const file = join(work, 'state', 'calls.jsonl');
    const r = await call('get_queue');
    expect(r.isError).toBeFalsy();
    const lines = await eventually(() => {
      const found = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Structured) : [];
      return found.some((l) => l['tool'] === 'get_queue') ? found : undefined;
    });
    expect(lines).toEqual(expect.arrayContaining([
      expect.objectContaining({ tool: 'generate_image', status: 'success', prompt: 'a lighthouse at dusk', host: sim.url }),
      expect.objectContaining({ tool: 'get_queue', status: 'success', host: sim.url }),
    ]));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('list_workflows, get_queue, list_models, get_system_stats answer with structured content', async () => {
    const wf = await call('list_workflows');
    expect(text(wf)).toContain('sd15-txt2img');
    const models = await call('list_models', { folder: 'checkpoints' });
    expect(text(models)).toContain('v1-5-pruned-emaonly.safetensors');
    const stats = await call('get_system_stats');
    expect(stats.isError).toBeFalsy();
    expect(stats.structuredContent).toBeDefined();
    const queue = await call('get_queue');
    expect(queue.isError).toBeFalsy();
  });

  it('a bounded wait returns a handle; the job completes and get_workflow_status shows its files', async () => {
    const r = await call('generate_image', { prompt: 'slow one', steps: 40, width: 64, height: 64, timeout_s: 0.2 });
    expect(r.isError).toBeFalsy();
    const handle = r.structuredContent as { prompt_id: string; status: string };
    expect(['queued', 'running']).toContain(handle.status);
    expect(text(r)).toMatch(/get_workflow_status/);
    let status: Structured = {};
    for (let i = 0; i < 200 && status['status'] !== 'success'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      status = ((await call('get_workflow_status', { prompt_id: handle.prompt_id })).structuredContent as { job: Structured }).job;
    }
    expect(status['status']).toBe('success');
    expect(JSON.stringify(status)).toMatch(/\.png/);
  });

  it('client cancellation mid-run interrupts the render in ComfyUI', async () => {
    const controller = new AbortController();
    const started = new Promise<void>((resolve) => {
      void call('generate_image', { prompt: 'cancel me', steps: 150, width: 64, height: 64 }, {
        signal: controller.signal,
        onprogress: (p) => {
          if (/step \d+\/150/.test(p.message ?? '')) resolve();
        },
      }).catch(() => undefined);
    });
    await started;
    controller.abort();
    // comfywire sees the interruption on the socket: the newest job (this one) turns interrupted.
    const interrupted = await eventually(async () => {
      const { recent } = (await call('get_workflow_status')).structuredContent as { recent: Array<{ prompt_id: string; status: string }> };
      return recent[0]?.status === 'interrupted' ? recent[0].prompt_id : undefined;
    }, 30_000, 50);
    // ComfyUI writes the history entry a moment after the frame (the simulator widens that gap): wait for it.
    type Entry = { status: { messages: [string][] } };
    const entry = await eventually(async () => ((await (await fetch(`${sim.url}/history/${interrupted}`)).json()) as Record<string, Entry>)[interrupted], 30_000, 50);
    expect(entry.status.messages.at(-1)![0]).toBe('execution_interrupted');
  });

  it('cancel_job on a queued prompt removes it from the queue', async () => {
    sim.faults.pauseWorker();
    try {
      const a = (await call('generate_image', { prompt: 'first', steps: 2, width: 64, height: 64, wait: false })).structuredContent as { prompt_id: string };
      const b = (await call('generate_image', { prompt: 'second', steps: 2, width: 64, height: 64, wait: false })).structuredContent as { prompt_id: string };
      const c = await call('cancel_job', { prompt_id: b.prompt_id });
      expect(text(c)).toMatch(/removed|dequeued/i);
      const queue = (await (await fetch(`${sim.url}/queue`)).json()) as { queue_pending: unknown[][] };
      expect(queue.queue_pending.map((i) => i[1])).toEqual([a.prompt_id]);
    } finally {
      sim.faults.resumeWorker();
    }
  });

  it('upload_image accepts a file in the working folder and refuses one outside it', async () => {
    const first = await call('generate_image', { prompt: 'to upload', steps: 1, width: 64, height: 64 });
    const path = (first.structuredContent as { files: Array<{ path: string }> }).files[0]!.path;
    const local = join(work, 'mine.png');
    copyFileSync(path, local);
    const ok = await call('upload_image', { path: local });
    expect(ok.isError).toBeFalsy();
    const refused = await call('upload_image', { path: '/etc/hostname' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/allowed/i);
  });

  it('tail --attach shows the server\'s own job events, node names and progress bars included', async () => {
    const tail = await startCli(['tail', '--attach', String(serverPid)], /attached to comfywire pid/);
    try {
      const r = await call('generate_image', { prompt: 'watched', steps: 5, width: 64, height: 64 });
      expect(r.isError).toBeFalsy();
      const deadline = Date.now() + 15_000;
      while (!/execution_success/.test(tail.output().stdout) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      const out = tail.output().stdout;
      expect(out).toMatch(/executing\s+#3 KSampler/);
      expect(out).toMatch(/progress\s+#3 KSampler .* 5\/5/);
      expect(out).toMatch(/executed\s+#9 .*\.png/);
      expect(out).toMatch(/execution_success/);
    } finally {
      tail.child.kill('SIGINT');
      expect(await exitOf(tail.child)).toBe(0);
    }
  });

  it('bad input is an isError result that says what to do, and the server keeps serving', async () => {
    const unknown = await call('generate_image', { workflow: 'no-such-flow', prompt: 'x' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('sd15-txt2img');
    const badParam = await call('generate_image', { prompt: 'x', params: { bogus: 1 } });
    expect(badParam.isError).toBe(true);
    expect(text(badParam)).toMatch(/bogus/);
    const range = await call('generate_image', { prompt: 'x', steps: 5000 });
    expect(range.isError).toBe(true);
    const after = await call('list_workflows');
    expect(after.isError).toBeFalsy();
    expect(server.stderr()).not.toMatch(/Unhandled|TypeError/);
  });
});
