import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ApiPrompt } from '../src/comfy/types.js';
import { loadConfig } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { silentLogger } from '../src/logger.js';

const CLI = fileURLToPath(new URL('../comfywire.mjs', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../test/fixtures/object_info.json', import.meta.url));

/**
 * What one connected ComfyUI host costs a comfywire process (the figures of docs/fleet-scale.md):
 * heap after GC and TCP sockets per idle host (one Engine each: its WebSocket, its HTTP pool, its
 * cached /object_info), the parsed size of a real /object_info, and the event loop's load while
 * every host streams a render. The simulators run in a child process (`comfywire simulate
 * --instances N`), so only comfywire's side is measured. Run: node --expose-gc dist/bench/fleet-footprint.js [hosts]
 */

const gc = (globalThis as { gc?: () => void }).gc;
const MB = 1024 * 1024;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

const tcpSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

async function startFleet(count: number, stepDelayMs: number): Promise<{ child: ChildProcess; urls: string[] }> {
  const child = spawn(process.execPath, [CLI, 'simulate', '--instances', String(count), '--port', '0', '--step-delay', String(stepDelayMs)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const urls = await new Promise<string[]>((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (log.length > 100_000) return;
      log += String(d);
      const m = /^COMFYUI_URLS=(.+)$/m.exec(log) ?? (count === 1 ? /listening on (http:\/\/\S+)/.exec(log) : null);
      if (m) resolve(m[1]!.trim().split(','));
    });
    child.once('exit', (code) => reject(new Error(`simulate exited with ${code}: ${log}`)));
  });
  return { child, urls };
}

function engineFor(url: string): Engine {
  const config = loadConfig({}, { cwd: tmpdir(), overrides: { COMFYUI_URL: url, COMFYWIRE_FEED: 'off', COMFYWIRE_CALL_LOG: 'off', COMFYWIRE_OUTPUT_DIR: tmpdir() } });
  return new Engine({ config, logger: silentLogger() }).start();
}

async function connect(engines: Engine[]): Promise<void> {
  const end = Date.now() + 20_000;
  while (engines.some((e) => e.connection.state !== 'open')) {
    if (Date.now() > end) throw new Error('engines did not connect');
    await new Promise((r) => setTimeout(r, 20));
  }
  // The fleet keeps each host's /object_info (and its models) to decide eligibility.
  await Promise.all(engines.map((e) => e.objectInfo()));
}

const slow = (i: number): ApiPrompt => ({
  1: { class_type: 'HarnessSlowProgress', inputs: { steps: 200, delay_ms: 50, nonce: i } },
  2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
});

async function main(): Promise<void> {
  const hosts = Number(process.argv[2] ?? 20);
  if (!gc) process.stderr.write('warning: run with --expose-gc for heap figures after GC\n');
  const { child, urls } = await startFleet(hosts, 50);
  try {
    const base = await heapAfterGc();
    const baseSockets = tcpSockets();
    const engines = [engineFor(urls[0]!)];
    await connect(engines);
    const one = await heapAfterGc();
    const oneSockets = tcpSockets() - baseSockets;
    for (const url of urls.slice(1)) engines.push(engineFor(url));
    await connect(engines);
    const all = await heapAfterGc();
    const allSockets = tcpSockets() - baseSockets;
    const pooled = engines.reduce((n, e) => n + (e.counts().httpConnections ?? 0), 0);
    const perHost = (all - one) / (hosts - 1);

    // A real ComfyUI's /object_info (0.3.64, stock nodes), parsed: what a per-host cache holds.
    const text = readFileSync(FIXTURE, 'utf8');
    const before = await heapAfterGc();
    const parsed: unknown = JSON.parse(text);
    const parsedBytes = (await heapAfterGc()) - before;
    void parsed;

    // Event loop while idle, then while every host streams a render (progress + progress_state per step).
    const idle0 = performance.eventLoopUtilization();
    await new Promise((r) => setTimeout(r, 3_000));
    const idle = performance.eventLoopUtilization(idle0).utilization;
    let frames = 0;
    const counted = engines.map((e) => e.events$.subscribe(() => frames++));
    const jobs = await Promise.all(engines.map((e, i) => e.submit(slow(i), { download: false })));
    await new Promise((r) => setTimeout(r, 1_500));
    const busy0 = performance.eventLoopUtilization();
    const f0 = frames;
    await new Promise((r) => setTimeout(r, 5_000));
    const busy = performance.eventLoopUtilization(busy0).utilization;
    const framesPerS = (frames - f0) / 5;
    await Promise.all(engines.map(async (e, i) => { await e.cancel(jobs[i]!.promptId).catch(() => undefined); }));
    counted.forEach((s) => s.unsubscribe());
    await Promise.all(engines.map((e) => e.close()));

    const rows: Array<[string, string]> = [
      ['hosts', String(hosts)],
      ['heap, 1 idle host connected (above the process baseline)', `${((one - base) / MB).toFixed(2)} MB`],
      [`heap, ${hosts} idle hosts connected`, `${((all - base) / MB).toFixed(2)} MB`],
      ['heap per additional idle host', `${(perHost / 1024).toFixed(0)} KB`],
      ['TCP sockets keeping the loop alive, 1 host / all hosts', `${oneSockets} / ${allSockets} (${(allSockets / hosts).toFixed(1)} per host)`],
      ['HTTP pool connections open, all hosts (idle keep-alive)', `${pooled}`],
      ['real /object_info (fixture): JSON size, parsed heap', `${(statSync(FIXTURE).size / MB).toFixed(2)} MB, ${(parsedBytes / MB).toFixed(2)} MB`],
      ['event-loop utilisation, all hosts idle', `${(idle * 100).toFixed(2)} %`],
      [`event-loop utilisation, ${hosts} hosts rendering (50 ms/step)`, `${(busy * 100).toFixed(1)} % at ${framesPerS.toFixed(0)} frames/s`],
    ];
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(62)} ${v}\n`);
  } finally {
    child.kill('SIGTERM');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
    process.exitCode = 1;
  });
}
