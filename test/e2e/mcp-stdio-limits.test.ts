import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import sharp from 'sharp';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startStdioServer, type StdioServer } from '../helpers/mcp-stdio.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';

/**
 * The built server over stdio with the limits as shipped (no COMFYWIRE_* limit set): upload_image
 * refuses a .env file, the generation bucket admits a burst of 5 and refuses the next call with the
 * time to retry, while reads go on. The bucket's timing on both sides of the retry
 * time is proven on a controlled clock (test/integration/mcp-rate-limit.test.ts); here only the
 * burst matters: the calls go out at once, well within the 6 s a refill takes.
 */

const text = (r: CallToolResult) => r.content.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('\n');

describe('comfywire over stdio, default limits', () => {
  let sim: Simulator;
  let work: string;
  let server: StdioServer;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, stepDelayMs: 5 });
    work = mkdtempSync(join(tmpdir(), 'comfywire-e2e-limits-'));
    server = await startStdioServer({ comfyUrl: sim.url, cwd: work, outputDir: join(work, 'outputs'), workflowsDir: WORKFLOWS_DIR, clientName: 'e2e-limits' });
  });

  afterAll(async () => {
    await server?.close();
    await sim?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses .env; admits the rest of the burst of 5 generation calls, refuses the next with the time to retry, and still serves reads', async () => {
    writeFileSync(join(work, '.env'), 'OPENAI_API_KEY=sk-secret\n');
    const secret = await server.call('upload_image', { path: '.env' });
    expect(secret.isError).toBe(true);
    expect(text(secret)).toMatch(/\.env is a hidden file or inside a hidden folder: comfywire does not send those to ComfyUI\./);

    // That call took the first token of the burst: 4 more are admitted, the 5th of these is not.
    writeFileSync(join(work, 'ref.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00f' } }).png().toBuffer());
    const results = await Promise.all(Array.from({ length: 5 }, () => server.call('upload_image', { path: 'ref.png', overwrite: true })));
    expect(results.filter((r) => !r.isError)).toHaveLength(4);
    const refused = results.filter((r) => r.isError).map(text);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^Rate limit: at most 10 generate_image\/upload_image\/upload_workflow calls a minute \(burst 5\) — retry in [1-6] s\.\n/);
    expect((await server.call('get_queue')).isError).toBeFalsy();
    expect((await server.call('list_workflows')).isError).toBeFalsy();
  });
});
