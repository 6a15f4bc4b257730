import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import sharp from 'sharp';
import { CallToolResultSchema, CreateTaskResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHttpServer, type HttpServerHandle } from '../../src/mcp/http/index.js';
import { silentLogger } from '../../src/logger.js';
import { closeOnFakeClock, advance, advanceUntil, settleReal, useFakeClock } from '../helpers/fake-clock.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * Rate limits per tool class, as token buckets on a clock the test controls: generation
 * (generate_image, upload_image) 10 a minute with a burst of 5, as configured by default; reads
 * separately. A refused call is an isError result that says when to retry; nothing else degrades,
 * and the call succeeds once that time has passed (checked 1 ms before and at it). One bucket per
 * process: every HTTP session draws from it.
 *
 * The simulator's worker is paused so the jobs only queue: the test is about admission.
 */

const GENERATE_REFUSED =
  'Rate limit: at most 10 generate_image/upload_image/upload_workflow calls a minute (burst 5) — retry in 6 s.\n' +
  'Other tools still work meanwhile. The limit protects ComfyUI\'s queue; configure COMFYWIRE_GENERATE_RATE_PER_MIN and ' +
  'COMFYWIRE_GENERATE_BURST to change it (0 turns it off).';

const LIMITS = {
  COMFYWIRE_GENERATE_RATE_PER_MIN: '10',
  COMFYWIRE_GENERATE_BURST: '5',
  COMFYWIRE_READ_RATE_PER_MIN: '600',
  COMFYWIRE_READ_BURST: '60',
  COMFYWIRE_MAX_ACTIVE_JOBS: '0',
  // Loopback round trips must not race the fake clock.
  COMFYWIRE_REQUEST_TIMEOUT_MS: String(3_600_000),
};

const GENERATE = { prompt: 'a red cube', steps: 1, width: 64, height: 64, wait: false };

let h: Harness | undefined;
let http: HttpServerHandle | undefined;
afterEach(async () => {
  await closeOnFakeClock(http?.close(), h?.close());
  h = undefined;
  http = undefined;
});

async function start(env: Record<string, string> = {}): Promise<Harness> {
  useFakeClock();
  h = await startHarness({ env: { ...LIMITS, ...env } });
  h.sim.faults.pauseWorker();
  return h;
}

/** A call made with the clock standing still (an MCP reply needs no timer). */
const call = (name: string, args: Record<string, unknown> = {}) => settleReal(h!.call(name, args));

describe('generation bucket', () => {
  it('refuses the call past the burst with the time to retry, and admits it exactly then', async () => {
    await start();
    for (let i = 0; i < 5; i++) expect((await call('generate_image', GENERATE)).isError).toBeFalsy();
    const refused = await call('generate_image', GENERATE);
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe(GENERATE_REFUSED);
    // upload_image draws from the same bucket.
    writeFileSync(path.join(h!.outputDir, 'ref.png'), await settleReal(sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer()));
    expect(textOf(await call('upload_image', { path: 'ref.png' }))).toBe(GENERATE_REFUSED);
    // Reads are not touched.
    expect((await call('get_queue')).isError).toBeFalsy();
    expect((await call('list_workflows')).isError).toBeFalsy();
    // Nothing refused reached ComfyUI: 5 jobs, all ours.
    expect(h!.engine.inFlight()).toHaveLength(5);

    await advance(5_999, { stepMs: 1_000 });
    const early = await call('generate_image', GENERATE);
    expect(textOf(early)).toContain('— retry in 1 s.');
    await advance(1);
    expect((await call('generate_image', GENERATE)).isError).toBeFalsy();
    // The token is spent again: the next one waits another 6 s.
    expect(textOf(await call('generate_image', GENERATE))).toContain('— retry in 6 s.');
    expect(h!.engine.inFlight()).toHaveLength(6);
  });

  it('refills to the burst, not beyond it, however long it stayed unused', async () => {
    await start();
    await advance(60 * 60_000, { stepMs: 60_000 });
    for (let i = 0; i < 5; i++) expect((await call('generate_image', GENERATE)).isError).toBeFalsy();
    expect(textOf(await call('generate_image', GENERATE))).toContain('— retry in 6 s.');
  });

  it('is off at 0 a minute', async () => {
    await start({ COMFYWIRE_GENERATE_RATE_PER_MIN: '0' });
    for (let i = 0; i < 12; i++) expect((await call('generate_image', GENERATE)).isError).toBeFalsy();
  });

  it('limits a requested MCP task too: the task fails with the refusal', async () => {
    await start({ COMFYWIRE_GENERATE_BURST: '1' });
    expect((await call('generate_image', GENERATE)).isError).toBeFalsy();
    const created = await settleReal(
      h!.client.request(
        { method: 'tools/call', params: { name: 'generate_image', arguments: GENERATE, task: { ttl: 60_000 } } },
        CreateTaskResultSchema,
      ),
    );
    let result: CallToolResult | undefined;
    await advanceUntil(async () => {
      const task = await h!.client.experimental.tasks.getTask(created.task.taskId);
      if (task.status === 'working') return false;
      expect(task.status).toBe('failed');
      result = (await h!.client.experimental.tasks.getTaskResult(created.task.taskId, CallToolResultSchema)) as CallToolResult;
      return true;
    }, 1_000, { stepMs: 10 });
    expect(result!.isError).toBe(true);
    expect(textOf(result!)).toMatch(/^Rate limit: at most 10 generate_image\/upload_image\/upload_workflow calls a minute \(burst 1\) — retry in 6 s\./);
    expect(h!.engine.inFlight()).toHaveLength(1);
  });
});

describe('read bucket', () => {
  it('refuses reads past their burst while generation still works, and admits them after the refill', async () => {
    await start({ COMFYWIRE_READ_RATE_PER_MIN: '60', COMFYWIRE_READ_BURST: '3' });
    for (let i = 0; i < 3; i++) expect((await call('get_queue')).isError).toBeFalsy();
    const refused = await call('list_models');
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe(
      'Rate limit: at most 60 read calls a minute (every tool but generate_image/upload_image/upload_workflow; burst 3) — retry in 1 s.\n' +
        'Generation is limited separately. Configure COMFYWIRE_READ_RATE_PER_MIN and COMFYWIRE_READ_BURST to change it (0 turns it off).',
    );
    expect((await call('generate_image', GENERATE)).isError).toBeFalsy();
    await advance(999, { stepMs: 333 });
    expect((await call('get_queue')).isError).toBe(true);
    await advance(1);
    expect((await call('get_queue')).isError).toBeFalsy();
  });
});

describe('one bucket per process', () => {
  it('is shared by every HTTP session', async () => {
    await start({ COMFYWIRE_GENERATE_BURST: '2' });
    // The HTTP server over the same engine, config and logger, as `serve --http` builds it.
    http = await startHttpServer({ deps: { engine: h!.engine, config: h!.config, logger: silentLogger(), cwd: h!.outputDir }, port: 0 });
    const session = async () => {
      const client = new Client({ name: 'rate-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(http!.url), { requestInit: { headers: { authorization: `Bearer ${http!.token}` } } }));
      return client;
    };
    const [a, b] = await settleReal(Promise.all([session(), session()]));
    const generate = (c: Client) => settleReal(c.callTool({ name: 'generate_image', arguments: GENERATE }) as Promise<CallToolResult>);
    expect((await generate(a)).isError).toBeFalsy();
    expect((await generate(b)).isError).toBeFalsy();
    const refused = await generate(a);
    expect(textOf(refused)).toContain('(burst 2) — retry in 6 s.');
    expect(textOf(await generate(b))).toContain('(burst 2) — retry in 6 s.');
    await advance(6_000, { stepMs: 1_000 });
    expect((await generate(b)).isError).toBeFalsy();
    await settleReal(Promise.all([a.close(), b.close()]));
  });
});
