import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startStdioServer, type StdioServer } from '../helpers/mcp-stdio.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { eventually } from '../helpers/wait.js';

/**
 * Real time, real processes: the built server over stdio, driven by the SDK client with its
 * default 60 s request timeout (reset by progress, as Claude Code's client does), against the
 * simulator. One render lasts over a minute, with a silent model load in it; a second call, made
 * meanwhile with a short bound, waits in ComfyUI's queue, answers with a handle, and is then
 * followed with get_workflow_status to its files. Slow on purpose: the fake-clock suites cover
 * hours; this proves the same on the wall clock, once.
 */

type Files = { files: Array<{ path: string }> };

describe('renders longer than a minute, on the wall clock', () => {
  let sim: Simulator;
  let work: string;
  let client: Client;
  let server: StdioServer;

  beforeAll(async () => {
    // 62 sampler steps of 1 s after an 8 s silent checkpoint load: about 70 s.
    sim = await startSimulator({ port: 0, stepDelayMs: 1_000 });
    sim.faults.slowNode({ classType: 'CheckpointLoaderSimple' }, 8_000);
    work = mkdtempSync(join(tmpdir(), 'comfywire-e2e-long-'));
    server = await startStdioServer({ comfyUrl: sim.url, cwd: work, outputDir: join(work, 'outputs'), workflowsDir: WORKFLOWS_DIR, clientName: 'e2e-long' });
    client = server.client;
  });

  afterAll(async () => {
    await client?.close();
    await sim?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('a plain call lasting over 60 s returns its image; a call queued behind it returns a handle and is fetched later', async () => {
    const started = Date.now();
    const arrivals: number[] = [];
    const long = client.callTool(
      { name: 'generate_image', arguments: { prompt: 'a slow lighthouse', steps: 62, width: 64, height: 64, timeout_s: 180 } },
      undefined,
      { onprogress: () => arrivals.push(Date.now()), resetTimeoutOnProgress: true, timeout: 60_000, maxTotalTimeout: 300_000 },
    ) as Promise<CallToolResult>;

    // Meanwhile a second call with a 10 s bound: it waits in the queue and returns the handle.
    const handle = (await client.callTool({
      name: 'generate_image',
      arguments: { prompt: 'behind it', steps: 3, width: 64, height: 64, timeout_s: 10 },
    })) as CallToolResult;
    expect(handle.isError).toBeFalsy();
    const queued = handle.structuredContent as { status: string; prompt_id: string };
    expect(['queued', 'running']).toContain(queued.status);

    const result = await long;
    const took = Date.now() - started;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'success' });
    expect(existsSync((result.structuredContent as Files).files[0]!.path)).toBe(true);
    expect(result.content.some((c) => c.type === 'image')).toBe(true);
    expect(took).toBeGreaterThan(60_000);
    // The silent load and the sampler both kept the client's 60 s timer from running out.
    const gaps = [started, ...arrivals].slice(1).map((t, i) => t - [started, ...arrivals][i]!);
    expect(Math.max(...gaps)).toBeLessThan(10_000);

    // The queued job ran after it; get_workflow_status follows it to its files.
    const done = await eventually(async () => {
      const status = (await client.callTool({ name: 'get_workflow_status', arguments: { prompt_id: queued.prompt_id } })) as CallToolResult;
      const job = (status.structuredContent as { job?: { status: string; settled: boolean } & Files }).job;
      // Settled: a success whose files are still downloading has none to show yet (seen under load).
      return job?.status === 'success' && job.settled ? job : undefined;
    }, 60_000, 500);
    expect(existsSync(done.files[0]!.path)).toBe(true);
    expect(server.stderr()).not.toMatch(/not found/i);
  }, 240_000);
});
