import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { loadConfig } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { silentLogger } from '../src/logger.js';
import { createServer } from '../src/mcp/server.js';
import { startSimulator } from '../src/simulator/index.js';
import { timingFactory } from './latency.js';
import { percentile, type Figure } from './table.js';

const CLI = fileURLToPath(new URL('../comfywire.mjs', import.meta.url));

/**
 * MCP figures. (1) From the end-of-run frame reaching our socket to the tools/call result reaching
 * the client, for a workflow whose only output is text (so no download or image encoding is on the
 * path), compared with the engine's own figure. (2) Process start to the tools/list answer.
 */
export async function benchMcp(calls = 150, starts = 7): Promise<Figure[]> {
  const sim = await startSimulator({ port: 0, stepDelayMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-bench-mcp-'));
  writeFileSync(join(dir, 'bench-text.json'), JSON.stringify({ '1': { class_type: 'HarnessText', inputs: { text: 'bench' } } }));
  const arrivals = new Map<string, number>();
  const config = loadConfig({}, {
    envFile: join(dir, 'none.env'),
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: dir, COMFYWIRE_WORKFLOWS_DIR: dir, COMFYWIRE_FEED: 'off' },
  });
  const logger = silentLogger();
  const engine = new Engine({ config, logger, webSocketFactory: timingFactory(arrivals) }).start();
  const { server, cleanup } = createServer({ engine, config, logger });
  const client = new Client({ name: 'bench', version: '1' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(b), client.connect(a)]);
  const samples: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const r = await client.callTool({ name: 'generate_image', arguments: { workflow: 'bench-text' } });
      const at = performance.now();
      const id = (r.structuredContent as { prompt_id?: string } | undefined)?.prompt_id;
      const arrived = id ? arrivals.get(id) : undefined;
      if (arrived !== undefined && i >= 10) samples.push(at - arrived);
    }
  } finally {
    await client.close();
    await cleanup();
    await engine.close();
    await sim.close();
  }

  // Start-up: spawn the built server, initialize, list tools. ComfyUI need not answer for that.
  const startups: number[] = [];
  for (let i = 0; i < starts; i++) {
    const t0 = performance.now();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve'],
      env: { ...(process.env as Record<string, string>), COMFYUI_URL: 'http://127.0.0.1:9', COMFYWIRE_FEED: 'off', COMFYWIRE_LOG_LEVEL: 'error' },
      stderr: 'ignore',
    });
    const c = new Client({ name: 'bench-start', version: '1' });
    await c.connect(transport);
    await c.listTools();
    startups.push(performance.now() - t0);
    await c.close();
  }
  rmSync(dir, { recursive: true, force: true });
  return [
    {
      name: 'terminal frame -> tools/call result, p50',
      value: percentile(samples, 50),
      unit: 'ms',
      note: `p95 ${percentile(samples, 95).toFixed(2)} ms over ${samples.length} calls (text output, no downloads); target: <= engine p50 + 2 ms`,
    },
    {
      name: 'process start -> tools/list answer, median',
      value: percentile(startups, 50),
      unit: 'ms',
      target: { op: '<=', value: 300 },
      note: `min ${Math.min(...startups).toFixed(0)} ms, max ${Math.max(...startups).toFixed(0)} ms over ${starts} starts`,
    },
  ];
}
