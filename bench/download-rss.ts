import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ComfyClient } from '../src/comfy/client.js';
import { startSimulator } from '../src/simulator/index.js';
import { gc, type Figure } from './table.js';

/**
 * RSS while downloading a 500 MB output through /view: the body must stream to disk, so the
 * process's resident memory stays flat (target: within +30 MB of where it started).
 */
export async function benchDownloadRss(megabytes = 500): Promise<Figure[]> {
  const sim = await startSimulator({ port: 0 });
  const dest = mkdtempSync(join(tmpdir(), 'comfywire-bench-dl-'));
  const outputDir = join(sim.dataDir, 'output', 'bench');
  mkdirSync(outputDir, { recursive: true });
  const file = join(outputDir, 'big_00001_.bin');
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const w = createWriteStream(file);
  for (let i = 0; i < megabytes; i++) if (!w.write(chunk)) await once(w, 'drain');
  w.end();
  await once(w, 'finish');

  const client = new ComfyClient({ baseUrl: sim.url, auth: { kind: 'none' }, clientId: 'bench', requestTimeoutMs: 120_000 });
  gc();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const t0 = performance.now();
  let bytes = 0;
  try {
    const got = await client.download({ filename: 'big_00001_.bin', subfolder: 'bench', type: 'output' }, dest);
    bytes = got.bytes;
  } finally {
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    await sim.close();
    rmSync(dest, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  return [
    {
      name: `RSS growth while downloading ${megabytes} MB`,
      value: (peak - base) / (1024 * 1024),
      unit: 'MB',
      target: { op: '<=', value: 30 },
      note: `${(bytes / 1024 / 1024).toFixed(0)} MB in ${seconds.toFixed(1)} s (${(bytes / 1024 / 1024 / seconds).toFixed(0)} MB/s); RSS ${(base / 1048576).toFixed(0)} -> peak ${(peak / 1048576).toFixed(0)} MB`,
    },
  ];
}
