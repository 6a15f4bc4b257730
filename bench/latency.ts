import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { startSimulator } from '../src/simulator/index.js';
import type { WebSocketFactory, WebSocketLike } from '../streams/connection.js';
import type { ApiPrompt } from '../src/comfy/types.js';
import { percentile, type Figure } from './table.js';

/**
 * Latency from the moment the end-of-run frame reaches our socket to the moment the job's
 * `done` promise resolves (downloads excluded): the engine's own overhead on the critical path
 * of every tool call. Measured against the simulator over real loopback sockets.
 */

/** Marks when each prompt's end-of-run frame arrives, before the engine's own listener runs. */
export function timingFactory(arrivals: Map<string, number>): WebSocketFactory {
  return (url, headers) => {
    const ws = new WebSocket(url, { headers, maxPayload: 0 });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (!text.includes('executing') || !text.includes('null')) return;
      const msg = JSON.parse(text) as { type: string; data: { node: unknown; prompt_id?: string } };
      if (msg.type === 'executing' && msg.data.node === null && msg.data.prompt_id) arrivals.set(msg.data.prompt_id, performance.now());
    });
    return ws as unknown as WebSocketLike;
  };
}

export function tinyPrompt(n: number): ApiPrompt {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: n } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'bench/latency' } },
  };
}

export async function benchLatency(jobs = 200): Promise<Figure[]> {
  const sim = await startSimulator({ port: 0, stepDelayMs: 0 });
  const out = mkdtempSync(join(tmpdir(), 'comfywire-bench-'));
  const arrivals = new Map<string, number>();
  const engine = new Engine({
    config: loadConfig({}, { overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_FEED: 'off' } }),
    webSocketFactory: timingFactory(arrivals),
  }).start();
  const samples: number[] = [];
  try {
    await engine.waitUntilOpen();
    for (let i = 0; i < jobs; i++) {
      const job = await engine.submit(tinyPrompt(i + 1), { download: false });
      await job.done;
      const doneAt = performance.now();
      const arrived = arrivals.get(job.promptId);
      if (arrived !== undefined && i >= 10) samples.push(doneAt - arrived); // first runs warm the JIT
    }
  } finally {
    await engine.close();
    await sim.close();
    rmSync(out, { recursive: true, force: true });
  }
  return [
    {
      name: 'terminal frame -> job completion, p50',
      value: percentile(samples, 50),
      unit: 'ms',
      target: { op: '<=', value: 2 },
      note: `p95 ${percentile(samples, 95).toFixed(3)} ms over ${samples.length} jobs, downloads excluded`,
    },
  ];
}
