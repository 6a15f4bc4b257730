import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ComfyClient } from '../src/comfy/client.js';
import type { Figure } from './table.js';

const CLI = fileURLToPath(new URL('../comfywire.mjs', import.meta.url));

/**
 * RSS while downloading a 500 MB output through /view: the body must stream to disk, so the
 * process's resident memory stays flat (target: within +30 MB of where it started). The simulator
 * serving the file runs in its own process, so only the downloading side is measured.
 */
export async function benchDownloadRss(megabytes = 500): Promise<Figure[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'comfywire-bench-sim-'));
  const dest = mkdtempSync(join(tmpdir(), 'comfywire-bench-dl-'));
  const outputDir = join(dataDir, 'output', 'bench');
  mkdirSync(outputDir, { recursive: true });
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const w = createWriteStream(join(outputDir, 'big_00001_.bin'));
  for (let i = 0; i < megabytes; i++) if (!w.write(chunk)) await once(w, 'drain');
  w.end();
  await once(w, 'finish');
  const small = createWriteStream(join(outputDir, 'small_00001_.bin'));
  small.end(Buffer.alloc(64 * 1024 * 1024, 1));
  await once(small, 'finish');

  const sim = spawn(process.execPath, [CLI, 'simulate', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Read stderr to the end, not just to the "listening" line: leaving the loop would close the
  // pipe, and the simulator's next lines (it prints three) would then end it with EPIPE, now and then.
  const url = await new Promise<string>((resolve, reject) => {
    let log = '';
    sim.stderr!.on('data', (data: Buffer) => {
      if (log.length > 10_000) return;
      log += String(data);
      const found = /listening on (http:\/\/[^\s]+)/.exec(log)?.[1];
      if (found) resolve(found);
    });
    sim.once('exit', () => reject(new Error(`simulator did not start: ${log}`)));
  });

  const client = new ComfyClient({ baseUrl: url, auth: { kind: 'none' }, clientId: 'bench', requestTimeoutMs: 120_000 });
  // Warm up with a 64 MB file: the first download loads the HTTP and file code and grows V8's young
  // generation to its working size; that is start-up, not memory that scales with the file.
  await client.download({ filename: 'small_00001_.bin', subfolder: 'bench', type: 'output' }, dest);
  // No forced GC here: it would shrink the young generation, and regrowing it is not download memory.
  const base = process.memoryUsage().rss;
  let peak = base;
  let detail = '';
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak) {
      peak = m.rss;
      detail = `heap ${(m.heapTotal / 1048576).toFixed(0)} MB, buffers ${(m.arrayBuffers / 1048576).toFixed(0)} MB at peak`;
    }
  }, 10);
  const t0 = performance.now();
  let bytes = 0;
  try {
    const got = await client.download({ filename: 'big_00001_.bin', subfolder: 'bench', type: 'output' }, dest);
    bytes = got.bytes;
  } finally {
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    sim.kill('SIGINT');
    await once(sim, 'exit');
    rmSync(dest, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  return [
    {
      name: `RSS growth while downloading ${megabytes} MB`,
      value: (peak - base) / (1024 * 1024),
      unit: 'MB',
      target: { op: '<=', value: 30 },
      note: `${(bytes / 1048576).toFixed(0)} MB in ${seconds.toFixed(1)} s (${(bytes / 1048576 / seconds).toFixed(0)} MB/s); RSS after a 64 MB warm-up download ${(base / 1048576).toFixed(0)} -> peak ${(peak / 1048576).toFixed(0)} MB; ${detail}; server in its own process`,
    },
  ];
}
