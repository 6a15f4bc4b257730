import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyClient } from '../../src/comfy/client.js';
import { DOWNLOAD_RETRIES, DOWNLOAD_RETRY_DELAY_MS } from '../../src/comfy/download.js';
import { DownloadFailedError } from '../../src/errors.js';
import { advance, advanceUntil, useFakeClock, useRealClock } from '../helpers/fake-clock.js';
import { startStub, type Stub } from './comfy-stub.js';

/**
 * A download whose connection breaks in the middle of the body (found by the dropped-socket runs)
 * is tried again from the start into a fresh temp file, after 0.25, 0.5 and 1 s: each wait is
 * checked on a fake clock just before (no new request yet) and at its end (the request is there).
 * The file that finally lands is whole; a body that breaks every time fails after 1 + 3 tries
 * with the reason, and no partial file is ever left.
 */

const S = 1_000;
const FILE = randomBytes(64 * 1024);
const REF = { filename: 'out.png', subfolder: '', type: 'output' };

let stub: Stub;
let dest: string;

beforeEach(async () => {
  useFakeClock();
  stub = await startStub();
  dest = mkdtempSync(join(tmpdir(), 'comfywire-dl-retry-'));
});

afterEach(async () => {
  useRealClock();
  await stub.close();
  rmSync(dest, { recursive: true, force: true });
});

const client = () => new ComfyClient({ baseUrl: stub.url, auth: { kind: 'none' }, clientId: 'c', requestTimeoutMs: 60 * S });

/** Half the file, then the connection reset: a link that drops mid-download. */
const broken = (res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(FILE.length) });
  res.write(FILE.subarray(0, FILE.length / 2), () => res.socket?.resetAndDestroy());
};
const whole = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(FILE.length) }).end(FILE);

function outcomeOf<T>(promise: Promise<T>): { value?: T; error?: unknown; settled: boolean } {
  const box: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then((value) => Object.assign(box, { value, settled: true }), (error: unknown) => Object.assign(box, { error, settled: true }));
  return box;
}

it(`broken ${DOWNLOAD_RETRIES} times: retried after 0.25, 0.5 and 1 s (never sooner, at most a few clock steps later), and the 4th try lands the whole file`, async () => {
  const arrivedAt: number[] = [];
  stub.handle(() => {
    arrivedAt.push(Date.now());
    return { status: 200, write: (res) => (arrivedAt.length <= DOWNLOAD_RETRIES ? broken(res) : whole(res)) };
  });
  const download = outcomeOf(client().download(REF, dest));
  await advanceUntil(() => download.settled, 10 * S, { stepMs: 10 });
  expect(download.error).toBeUndefined();
  const gaps = arrivedAt.slice(1).map((t, i) => t - arrivedAt[i]!);
  const waits = Array.from({ length: DOWNLOAD_RETRIES }, (_, i) => DOWNLOAD_RETRY_DELAY_MS * 2 ** i);
  expect(waits).toEqual([250, 500, 1000]);
  gaps.forEach((gap, i) => {
    expect(gap).toBeGreaterThanOrEqual(waits[i]!);
    expect(gap).toBeLessThanOrEqual(waits[i]! + 100); // the broken body is seen within a few 10 ms steps
  });
  expect(download.value!.bytes).toBe(FILE.length);
  expect(readFileSync(download.value!.path).equals(FILE)).toBe(true);
  expect(readdirSync(dest)).toEqual(['out.png']);
});

it('broken every time: a DownloadFailedError after 1 + 3 tries that says so, and nothing on disk', async () => {
  stub.handle(() => ({ status: 200, write: broken }));
  const download = outcomeOf(client().download(REF, dest));
  await advanceUntil(() => download.settled, 10 * S, { stepMs: 50 });
  expect(download.error).toBeInstanceOf(DownloadFailedError);
  expect((download.error as Error).message).toMatch(new RegExp(`^Downloading output/out\\.png from .* failed: .*Tried ${DOWNLOAD_RETRIES + 1} times; no partial file was kept\\.$`, 's'));
  expect(stub.seen).toHaveLength(DOWNLOAD_RETRIES + 1);
  expect(readdirSync(dest)).toEqual([]);
});

it('a 404 is not a broken connection: one request, no retry', async () => {
  stub.handle(() => ({ status: 404, body: '' }));
  const download = outcomeOf(client().download(REF, dest));
  await advanceUntil(() => download.settled, 5 * S, { stepMs: 50 });
  expect(download.error).toBeInstanceOf(DownloadFailedError);
  await advance(5 * S, { stepMs: 250 });
  expect(stub.seen).toHaveLength(1);
});
