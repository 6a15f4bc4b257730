import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyClient } from '../../src/comfy/client.js';
import { THROUGHPUT_GRACE_MS, type DownloadLimits } from '../../src/comfy/download-limits.js';
import { loadConfig } from '../../src/config.js';
import { DownloadFailedError } from '../../src/errors.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { advance, closeOnFakeClock, untilReal, useFakeClock } from '../helpers/fake-clock.js';

/**
 * The limits of one output file's download, against the simulator's misbehaving /view (a trickle,
 * a body far larger than the file) on a clock the test controls, each on both sides: the deadline
 * per file (COMFYWIRE_DOWNLOAD_TIMEOUT_MS), the least average throughput once a file has been
 * downloading 10 s (COMFYWIRE_DOWNLOAD_MIN_KBPS), and the size cap (COMFYWIRE_DOWNLOAD_MAX_MB),
 * refused on Content-Length up front or cut when a streamed body passes it. Whatever limit is
 * hit, nothing is left on disk and the error names the file, the limit and its variable.
 */

const S = 1_000;
const FILE = { filename: 'slow_00001_.png', subfolder: '', type: 'output' as const };

let sim: Simulator;
let dest: string;

beforeEach(async () => {
  useFakeClock();
  sim = await startSimulator({ port: 0 });
  dest = mkdtempSync(join(tmpdir(), 'comfywire-limits-dl-'));
});
afterEach(async () => {
  await closeOnFakeClock(sim.close());
  rmSync(dest, { recursive: true, force: true });
});

/** A file of `bytes` random bytes in the simulator's output folder. */
function serveFile(bytes: number): Buffer {
  const data = randomBytes(bytes);
  writeFileSync(join(sim.dataDir, 'output', FILE.filename), data);
  return data;
}

const client = (limits: Partial<DownloadLimits>) =>
  new ComfyClient({
    baseUrl: sim.url,
    auth: { kind: 'none' },
    clientId: 'limits-dl',
    requestTimeoutMs: 60 * 60 * S, // the idle limit has its own tests (limits-http)
    downloadLimits: { maxBytes: Infinity, timeoutMs: Infinity, minBytesPerS: 0, ...limits },
  });

interface Call {
  settled: boolean;
  at: number;
  startedAt: number;
  value?: { path: string; bytes: number };
  error?: unknown;
}

function start(promise: Promise<{ path: string; bytes: number }>): Call {
  const c: Call = { settled: false, at: 0, startedAt: Date.now() };
  promise.then(
    (value) => Object.assign(c, { settled: true, at: Date.now(), value }),
    (error: unknown) => Object.assign(c, { settled: true, at: Date.now(), error }),
  );
  return c;
}

const leftovers = () => readdirSync(dest, { recursive: true });

/**
 * The trickle answers on the simulator's fake timers from the moment its request arrives; under
 * load that request can cross loopback only after a few steps of the clock, and the whole trickle
 * would then run late. So the clock stands still until the answer has begun (the download's
 * partial file exists), and the trickle starts at the same fake instant as the client's limits.
 */
const responding = () => untilReal(() => leftovers().length > 0);

describe('the defaults', () => {
  it('512 MB per file, 10 minutes per file, 16 KiB/s on average after 10 s', () => {
    const { limits } = loadConfig({}, { cwd: tmpdir() });
    expect(limits.downloadMaxBytes).toBe(512 * 1024 * 1024);
    expect(limits.downloadTimeoutMs).toBe(10 * 60 * S);
    expect(limits.downloadMinBytesPerS).toBe(16 * 1024);
    expect(THROUGHPUT_GRACE_MS).toBe(10 * S);
  });
});

describe('deadline per file (COMFYWIRE_DOWNLOAD_TIMEOUT_MS)', () => {
  const LIMIT = 60 * S;

  it('a trickle (1 000 bytes a second) that ends at 58 s is taken whole', async () => {
    const data = serveFile(59_000);
    sim.faults.trickleViews(1_000, S);
    const call = start(client({ timeoutMs: LIMIT }).download(FILE, dest));
    await responding();
    await advance(LIMIT - 1 * S, { stepMs: 250 });
    await untilReal(() => call.settled);
    expect(call.error).toBeUndefined();
    expect(readFileSync(call.value!.path)).toEqual(data);
  });

  it('one that would end at 61 s is stopped at 60 s exactly, with the file, the limit and the variable named, nothing left', async () => {
    serveFile(62_000);
    sim.faults.trickleViews(1_000, S);
    const call = start(client({ timeoutMs: LIMIT }).download(FILE, dest));
    await responding();
    await advance(LIMIT - 250, { stepMs: 250 });
    expect(call.settled).toBe(false);
    await advance(250, { stepMs: 250 });
    await untilReal(() => call.settled);
    expect(call.at - call.startedAt).toBe(LIMIT);
    const err = call.error as DownloadFailedError;
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect(err.message).toMatch(
      /^Downloading output\/slow_00001_\.png took longer than the 60 s limit per file \(COMFYWIRE_DOWNLOAD_TIMEOUT_MS\); stopped after [\d,]+ bytes\. The partial file was removed\.$/,
    );
    expect(err.context).toMatchObject({ reason: 'deadline', timeoutMs: LIMIT });
    expect(err.hint).toMatch(/COMFYWIRE_DOWNLOAD_TIMEOUT_MS/);
    expect(leftovers()).toEqual([]);
  });
});

describe('least average throughput (COMFYWIRE_DOWNLOAD_MIN_KBPS), judged from 10 s on', () => {
  const MIN_RATE = 1_000; // bytes per second

  it('1 100 bytes/s for 20 s passes every check', async () => {
    const data = serveFile(22_000);
    sim.faults.trickleViews(110, 100);
    const call = start(client({ minBytesPerS: MIN_RATE }).download(FILE, dest));
    await responding();
    await advance(21 * S, { stepMs: 100 });
    await untilReal(() => call.settled);
    expect(call.error).toBeUndefined();
    expect(readFileSync(call.value!.path)).toEqual(data);
  });

  it('900 bytes/s is left alone for 10 s, then stopped at 10 s exactly, nothing left', async () => {
    serveFile(22_000);
    sim.faults.trickleViews(90, 100);
    const call = start(client({ minBytesPerS: MIN_RATE }).download(FILE, dest));
    await responding();
    await advance(THROUGHPUT_GRACE_MS - 100, { stepMs: 100 });
    expect(call.settled).toBe(false);
    await advance(100, { stepMs: 100 });
    await untilReal(() => call.settled);
    expect(call.at - call.startedAt).toBe(THROUGHPUT_GRACE_MS);
    const err = call.error as DownloadFailedError;
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect(err.message).toMatch(
      /^Downloading output\/slow_00001_\.png was too slow: \d+ bytes\/s on average over 10 s, below the minimum of 0\.977 KiB\/s \(COMFYWIRE_DOWNLOAD_MIN_KBPS\); stopped after [\d,]+ bytes\. The partial file was removed\.$/,
    );
    expect(err.context).toMatchObject({ reason: 'too_slow', minBytesPerS: MIN_RATE, elapsedMs: THROUGHPUT_GRACE_MS });
    expect(leftovers()).toEqual([]);
  });
});

describe('size cap (COMFYWIRE_DOWNLOAD_MAX_MB)', () => {
  const CAP = 100_000;

  it.each([true, false])('a body of exactly the cap is taken (Content-Length sent: %s)', async (declareLength) => {
    serveFile(1_000);
    sim.faults.oversizeViews(CAP, declareLength);
    const call = start(client({ maxBytes: CAP }).download(FILE, dest));
    await untilReal(() => call.settled);
    expect(call.error).toBeUndefined();
    expect(call.value!.bytes).toBe(CAP);
  });

  it('a Content-Length one byte over it is refused before a byte is written', async () => {
    serveFile(1_000);
    sim.faults.oversizeViews(CAP + 1, true);
    const call = start(client({ maxBytes: CAP }).download(FILE, dest));
    await untilReal(() => call.settled);
    const err = call.error as DownloadFailedError;
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect(err.message).toBe(
      "ComfyUI's file output/slow_00001_.png is 100,001 bytes, over the 0.1 MB limit per file (COMFYWIRE_DOWNLOAD_MAX_MB); it was not downloaded.",
    );
    expect(err.context).toMatchObject({ reason: 'too_large', maxBytes: CAP, contentLength: CAP + 1 });
    expect(leftovers()).toEqual([]);
  });

  it('a streamed body without Content-Length is cut once it passes the cap: a 300 MB body against a 1 MB cap', async () => {
    serveFile(1_000);
    sim.faults.oversizeViews(300 * 1024 * 1024, false);
    const cap = 1024 * 1024;
    const call = start(client({ maxBytes: cap }).download(FILE, dest));
    await untilReal(() => call.settled, 30_000);
    const err = call.error as DownloadFailedError;
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect(err.message).toMatch(
      /^ComfyUI sent more than the 1 MB limit per file \(COMFYWIRE_DOWNLOAD_MAX_MB\) for output\/slow_00001_\.png; stopped after [\d,]+ bytes\. The partial file was removed\.$/,
    );
    const received = Number(err.context['bytesReceived']);
    expect(received).toBeGreaterThan(cap);
    expect(received).toBeLessThan(cap + 128 * 1024); // cut at the first chunk past the cap
    expect(leftovers()).toEqual([]);
  });
});
