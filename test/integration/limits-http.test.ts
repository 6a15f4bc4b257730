import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyClient, OBJECT_INFO_MIN_TIMEOUT_MS } from '../../src/comfy/client.js';
import { loadConfig } from '../../src/config.js';
import { ComfyUnreachableError, DownloadFailedError } from '../../src/errors.js';
import { advance, advanceUntil, untilReal, useFakeClock, useRealClock } from '../helpers/fake-clock.js';
import { startStub, type Stub, type StubHandler } from './comfy-stub.js';

/**
 * The HTTP layer's deadlines against a loopback server that answers just under or just over them,
 * on a clock the test controls:
 * - every JSON request: COMFYWIRE_REQUEST_TIMEOUT_MS (30 s) for headers and body together;
 * - GET /object_info: at least 120 s (a big install scans its model folders to answer);
 * - a /view download: the same 30 s, but as an idle limit between chunks (undici's headers and body
 *   timeouts), so a slow but steady download of any length is never cut, and a stopped one is.
 * undici's own timers tick every ~500 ms (documented resolution: about a second), so the download
 * limits are checked at limit - 1 s and limit + 1.5 s; our own deadline is checked to the millisecond.
 */

const S = 1_000;
const MIN = 60 * S;
const LIMIT = loadConfig({}, { cwd: tmpdir() }).requestTimeoutMs;
const FILE = { filename: 'render_00001_.png', subfolder: '', type: 'output' as const };

let stub: Stub;
let dest: string;

beforeEach(async () => {
  useFakeClock();
  stub = await startStub();
  dest = mkdtempSync(join(tmpdir(), 'comfywire-limits-http-'));
});
afterEach(async () => {
  useRealClock();
  await stub.close();
  rmSync(dest, { recursive: true, force: true });
});

const client = (requestTimeoutMs = LIMIT) =>
  new ComfyClient({ baseUrl: stub.url, auth: { kind: 'none' }, clientId: 'limits', requestTimeoutMs });

/** A reply sent `delayMs` after the request arrived (on the fake clock). */
const after = (delayMs: number, body: unknown): StubHandler => () => ({
  status: 200,
  write: (res: ServerResponse) => {
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }, delayMs);
  },
});

interface Tracked<T> {
  settled: boolean;
  at: number;
  value?: T;
  error?: unknown;
}

/**
 * Starts the call now, notes when (fake time) and how it settles, and returns once the request
 * has reached the server, the clock standing still: time must not run before it is sent.
 */
async function sent<T>(promise: Promise<T>): Promise<Tracked<T> & { startedAt: number }> {
  const seen = stub.seen.length;
  const t: Tracked<T> & { startedAt: number } = { settled: false, at: 0, startedAt: Date.now() };
  promise.then(
    (value) => Object.assign(t, { settled: true, at: Date.now(), value }),
    (error: unknown) => Object.assign(t, { settled: true, at: Date.now(), error }),
  );
  await untilReal(() => stub.seen.length > seen || t.settled);
  return t;
}

const COUNTER = { exec_info: { queue_remaining: 3 } };

/**
 * Moves the clock to 2 s before `limitMs` (from the call's start) in 2 s steps: nothing is due
 * before then. Near a limit the steps must be small: an answer due at 29.5 s crosses loopback
 * only between steps, so one step from 28 to 30 s would let the 30 s deadline fire first.
 */
const approach = (limitMs: number) => advance(limitMs - 2 * S, { stepMs: 2 * S });

describe(`request deadline (COMFYWIRE_REQUEST_TIMEOUT_MS, default ${LIMIT / S} s)`, () => {
  it('defaults to 30 s', () => {
    expect(LIMIT).toBe(30 * S);
  });

  it('an answer 500 ms before the deadline is taken', async () => {
    stub.handle(after(LIMIT - 500, COUNTER));
    const call = await sent(client().getPromptCounter());
    await approach(LIMIT);
    await advanceUntil(() => call.settled, 5 * S, { stepMs: 250 });
    expect(call.error).toBeUndefined();
    expect(call.value).toBe(3);
    expect(call.at - call.startedAt).toBe(LIMIT - 500);
  });

  it('an answer 500 ms after it is too late: the typed timeout error, at the deadline exactly, not retried', async () => {
    stub.handle(after(LIMIT + 500, COUNTER));
    const call = await sent(client().getPromptCounter());
    await approach(LIMIT);
    await advance(2 * S - 250, { stepMs: 250 });
    expect(call.settled).toBe(false);
    await advanceUntil(() => call.settled, 5 * S, { stepMs: 250 });
    expect(call.at - call.startedAt).toBe(LIMIT);
    const err = call.error as ComfyUnreachableError;
    expect(err).toBeInstanceOf(ComfyUnreachableError);
    expect(err.code).toBe('COMFY_UNREACHABLE');
    expect(err.message).toBe(`ComfyUI is not reachable at ${stub.url}/prompt.`);
    expect(err.context).toMatchObject({ reason: 'timeout', timeoutMs: LIMIT });
    expect(err.hint).toMatch(/No answer within 30000 ms.*COMFYWIRE_REQUEST_TIMEOUT_MS/);
    expect(stub.seen.filter((r) => r.url === '/prompt')).toHaveLength(1); // a timeout is not retried
  });

  it('a POST /prompt past the deadline fails the same way and is sent once (it may have been queued)', async () => {
    stub.handle(after(LIMIT + 500, { prompt_id: 'x', number: 1, node_errors: {} }));
    const call = await sent(client().submitPrompt({ '1': { class_type: 'X', inputs: {} } }));
    await approach(LIMIT);
    await advance(2 * S - 250, { stepMs: 250 });
    expect(call.settled).toBe(false);
    await advanceUntil(() => call.settled, 5 * S, { stepMs: 250 });
    expect(call.at - call.startedAt).toBe(LIMIT);
    expect(call.error).toMatchObject({ code: 'COMFY_UNREACHABLE', context: { reason: 'timeout' } });
    expect(stub.seen.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('GET /history/<id>: an answer 500 ms before the deadline is taken; one 500 ms after fails at the deadline, naming /history/<id>, the limit and its variable', async () => {
    const entry = { abc: { prompt: [0, 'abc', {}, {}, []], outputs: {}, status: { status_str: 'success', completed: true, messages: [] } } };
    stub.handle(after(LIMIT - 500, entry));
    const early = await sent(client().getHistory('abc'));
    await approach(LIMIT);
    await advanceUntil(() => early.settled, 5 * S, { stepMs: 250 });
    expect(early.error).toBeUndefined();
    expect(early.value?.status.status_str).toBe('success');

    stub.handle(after(LIMIT + 500, entry));
    const late = await sent(client().getHistory('abc'));
    await approach(LIMIT);
    await advance(2 * S - 250, { stepMs: 250 });
    expect(late.settled).toBe(false);
    await advanceUntil(() => late.settled, 5 * S, { stepMs: 250 });
    expect(late.at - late.startedAt).toBe(LIMIT);
    const err = late.error as ComfyUnreachableError;
    expect(err.message).toBe(`ComfyUI is not reachable at ${stub.url}/history/abc.`);
    expect(err.context).toMatchObject({ reason: 'timeout', timeoutMs: LIMIT });
    expect(err.hint).toMatch(/No answer within 30000 ms.*COMFYWIRE_REQUEST_TIMEOUT_MS/);
  });

  it('a deadline set above undici\'s own 300 s default is honoured: a 6-minute answer within a 7-minute limit is taken', async () => {
    stub.handle(after(6 * MIN, COUNTER));
    const call = await sent(client(7 * MIN).getPromptCounter());
    await advanceUntil(() => call.settled, 8 * MIN, { stepMs: 5 * S });
    expect(call.error).toBeUndefined();
    expect(call.value).toBe(3);
  });
});

describe(`/object_info deadline (at least ${OBJECT_INFO_MIN_TIMEOUT_MS / S} s)`, () => {
  const INFO = { KSampler: { input: { required: {} }, output: [], name: 'KSampler', category: 'sampling' } };

  it('is 120 s', () => {
    expect(OBJECT_INFO_MIN_TIMEOUT_MS).toBe(120 * S);
  });

  it('an answer after 119.5 s is taken although ordinary requests stop at 30 s', async () => {
    stub.handle(after(OBJECT_INFO_MIN_TIMEOUT_MS - 500, INFO));
    const call = await sent(client().getObjectInfo());
    await approach(OBJECT_INFO_MIN_TIMEOUT_MS);
    await advanceUntil(() => call.settled, 5 * S, { stepMs: 250 });
    expect(call.error).toBeUndefined();
    expect(Object.keys(call.value!)).toEqual(['KSampler']);
  });

  it('an answer after 120.5 s is too late: the timeout error says 120000 ms, at 120 s exactly', async () => {
    stub.handle(after(OBJECT_INFO_MIN_TIMEOUT_MS + 500, INFO));
    const call = await sent(client().getObjectInfo());
    await approach(OBJECT_INFO_MIN_TIMEOUT_MS);
    await advance(2 * S - 250, { stepMs: 250 });
    expect(call.settled).toBe(false);
    await advanceUntil(() => call.settled, 5 * S, { stepMs: 250 });
    expect(call.at - call.startedAt).toBe(OBJECT_INFO_MIN_TIMEOUT_MS);
    expect(call.error).toMatchObject({ code: 'COMFY_UNREACHABLE', context: { reason: 'timeout', timeoutMs: OBJECT_INFO_MIN_TIMEOUT_MS } });
  });

  it('a client deadline above 120 s wins: 200 s allows an answer after 190 s', async () => {
    stub.handle(after(190 * S, INFO));
    const call = await sent(client(200 * S).getObjectInfo());
    await advanceUntil(() => call.settled, 210 * S, { stepMs: 5 * S });
    expect(call.error).toBeUndefined();
  });
});

describe('download (/view) idle deadline', () => {
  /** Headers and `first` at once, then the chunks at their (fake) times; `end` closes the body. */
  function viewServer(first: Buffer, later: Array<{ atMs: number; data?: Buffer; end?: boolean }>): void {
    stub.handle((req) => {
      if (!req.url.startsWith('/view')) return undefined;
      return {
        status: 200,
        write: (res) => {
          res.writeHead(200, { 'content-type': 'image/png' });
          res.write(first);
          for (const { atMs, data, end } of later) {
            setTimeout(() => {
              if (res.destroyed) return;
              if (data) res.write(data);
              if (end) res.end();
            }, atMs);
          }
        },
      };
    });
  }
  const chunk = (n: number, fill: number) => Buffer.alloc(n, fill);
  const partFiles = () => readdirSync(dest).filter((f) => f.endsWith('.part'));

  it(`a body that stops: nothing at ${LIMIT / S - 1} s of silence, a clear error naming the file by ${LIMIT / S + 1.5} s, no temp file left`, async () => {
    viewServer(chunk(1_000, 1), []); // 1 000 bytes, then nothing, and the connection stays open
    const call = await sent(client().download(FILE, dest));
    await advance(LIMIT - S, { stepMs: 250 });
    expect(call.settled).toBe(false);
    expect(partFiles()).toHaveLength(1); // the download is under way
    await advance(2.5 * S, { stepMs: 250 });
    // The deadline has fired on the fake clock; what follows (abort, unlink of the partial file)
    // is real I/O that a busy machine may take a while over: wait for it with the clock still.
    await untilReal(() => call.settled);
    const err = call.error as DownloadFailedError;
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect(err.message).toBe(`ComfyUI stopped sending output/${FILE.filename}: no data for ${LIMIT} ms after 1000 bytes. The partial file was removed.`);
    expect(err.context).toMatchObject({ reason: 'idle_timeout', idleTimeoutMs: LIMIT, bytesReceived: 1_000 });
    expect(err.hint).toMatch(/COMFYWIRE_REQUEST_TIMEOUT_MS/);
    expect(readdirSync(dest)).toEqual([]);
  });

  it(`a pause of ${LIMIT / S - 1} s in the middle is not cut: the whole file arrives`, async () => {
    viewServer(chunk(1_000, 1), [{ atMs: LIMIT - S, data: chunk(2_000, 2), end: true }]);
    const call = await sent(client().download(FILE, dest));
    await advanceUntil(() => call.settled, LIMIT + 5 * S, { stepMs: 250 });
    expect(call.error).toBeUndefined();
    expect(call.value!.bytes).toBe(3_000);
    expect(readFileSync(call.value!.path)).toEqual(Buffer.concat([chunk(1_000, 1), chunk(2_000, 2)]));
    expect(partFiles()).toEqual([]);
  });

  it('a slow but steady 10-minute download (64 KiB every 10 s) is never cut', async () => {
    const every = 10 * S;
    const n = (10 * MIN) / every;
    viewServer(chunk(64 * 1024, 0), Array.from({ length: n }, (_, i) => ({ atMs: (i + 1) * every, data: chunk(64 * 1024, i + 1), end: i === n - 1 })));
    const call = await sent(client().download(FILE, dest));
    await advanceUntil(() => call.settled, 11 * MIN, { stepMs: 5 * S });
    expect(call.error).toBeUndefined();
    expect(call.at - call.startedAt).toBeGreaterThanOrEqual(10 * MIN);
    expect(call.value!.bytes).toBe((n + 1) * 64 * 1024);
  });

  it(`no headers at all: nothing at ${LIMIT / S - 1} s, the typed timeout error by ${LIMIT / S + 1.5} s`, async () => {
    stub.handle(() => ({ status: 200, hang: true }));
    const call = await sent(client().download(FILE, dest));
    await advance(LIMIT - S, { stepMs: 250 });
    expect(call.settled).toBe(false);
    await advance(2.5 * S, { stepMs: 250 });
    await untilReal(() => call.settled); // as above: the rest is real I/O
    const err = call.error as ComfyUnreachableError;
    expect(err).toBeInstanceOf(ComfyUnreachableError);
    expect(err.context).toMatchObject({ reason: 'timeout', timeoutMs: LIMIT });
    expect(String(err.context['url'])).toContain(`filename=${FILE.filename}`);
    expect(readdirSync(dest)).toEqual([]);
  });
});
