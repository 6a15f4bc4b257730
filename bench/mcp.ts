import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { spawn } from 'node:child_process';
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
    // The limits are off: a benchmark makes hundreds of calls a second by design.
    overrides: {
      COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: dir, COMFYWIRE_WORKFLOWS_DIR: dir, COMFYWIRE_FEED: 'off',
      COMFYWIRE_GENERATE_RATE_PER_MIN: '0', COMFYWIRE_READ_RATE_PER_MIN: '0', COMFYWIRE_MAX_ACTIVE_JOBS: '0', COMFYWIRE_CALL_LOG: 'off',
    },
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
      // A figure over failed calls would measure the refusal, not the path: stop with the reason.
      if (r.isError) throw new Error(`generate_image failed in the benchmark: ${JSON.stringify(r.content).slice(0, 300)}`);
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

  // Start-up: spawn the bundled server and speak JSON-RPC on its stdin; the clock stops when the
  // tools/list answer arrives on stdout (client-side processing is not server start-up).
  const startups: number[] = [];
  for (let i = 0; i < starts; i++) startups.push(await timeToToolsList());
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
      target: { op: '<=', value: 200 },
      note: `node dist/comfywire.mjs serve, JSON-RPC on stdio; min ${Math.min(...startups).toFixed(0)} ms, max ${Math.max(...startups).toFixed(0)} ms over ${starts} starts`,
    },
  ];
}

const HANDSHAKE = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
]
  .map((m) => JSON.stringify(m))
  .join('\n');

function timeToToolsList(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...process.env, COMFYUI_URL: 'http://127.0.0.1:9', COMFYWIRE_FEED: 'off', COMFYWIRE_LOG_LEVEL: 'error' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/"id":2[,}]/.test(out) && out.includes('"tools"')) {
        resolve(performance.now() - t0);
        child.kill();
      }
    });
    child.on('error', reject);
    child.on('exit', () => reject(new Error(`server exited before answering tools/list: ${out.slice(0, 300)}`)));
    child.stdin.write(`${HANDSHAKE}\n`);
  });
}
