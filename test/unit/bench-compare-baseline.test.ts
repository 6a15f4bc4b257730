import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryPoller, type BaselineResult } from '../../bench/compare-baseline.js';
import { FAKE_EPOCH, realPause, untilReal, useFakeClock, useRealClock } from '../helpers/fake-clock.js';

/**
 * The baseline client of `npm run bench -- --compare`: asks /history at once and then every
 * 1000 ms, holds the result only at the first poll after the entry exists, downloads each image,
 * and gives up at its deadline, each checked just before and at the moment it matters.
 */

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
const ENTRY = {
  outputs: { '2': { images: [{ filename: 'compare_00001_.png', subfolder: 'bench', type: 'output' }] } },
  status: { status_str: 'success', completed: true },
};

/** A ComfyUI that writes the prompt's history entry at `readyAt` (fake time); it records each request. */
function fakeComfy(readyAt: number, options: { promptStatus?: number; entry?: unknown } = {}) {
  const historyAt: number[] = [];
  const views: string[] = [];
  const body: Record<string, unknown> = {};
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    if (url.pathname === '/prompt') {
      if (options.promptStatus) return new Response('{"error": "invalid prompt"}', { status: options.promptStatus });
      Object.assign(body, JSON.parse(String(init?.body)));
      return Response.json({ prompt_id: 'p-1', number: 1, node_errors: {} });
    }
    if (url.pathname === '/history/p-1') {
      historyAt.push(Date.now() - FAKE_EPOCH);
      return Response.json(Date.now() >= readyAt ? { 'p-1': options.entry ?? ENTRY } : {});
    }
    if (url.pathname === '/view') {
      views.push(url.search);
      return new Response(PNG);
    }
    return new Response('not found', { status: 404 });
  };
  return { fetch: f as typeof fetch, historyAt, views, body };
}

let out: string;
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'comfywire-baseline-'));
  useFakeClock();
});
afterEach(() => {
  useRealClock();
  rmSync(out, { recursive: true, force: true });
});

function watch(p: Promise<BaselineResult>) {
  const state: { result?: BaselineResult; error?: Error; ended: () => Promise<void> } = {
    // The download writes a real file: wait for it with the clock standing still.
    ended: () => untilReal(() => state.result !== undefined || state.error !== undefined),
  };
  p.then((r) => (state.result = r), (e: Error) => (state.error = e));
  return state;
}

test('asks /history at once, then every 1000 ms; holds the result only at the first poll after the entry is written', async () => {
  const comfy = fakeComfy(FAKE_EPOCH + 2500);
  const poller = new HistoryPoller({ baseUrl: 'http://127.0.0.1:8188', clientId: 'bench-client', outDir: out, fetch: comfy.fetch });
  const run = watch(poller.run({ '1': { class_type: 'EmptyImage', inputs: {} } }));
  await jest.advanceTimersByTimeAsync(2999);
  await realPause(20);
  expect(comfy.historyAt).toEqual([0, 1000, 2000]);
  expect(run.result).toBeUndefined(); // written at 2500, not seen before the poll at 3000
  await jest.advanceTimersByTimeAsync(1);
  await run.ended();
  expect(run.error).toBeUndefined();
  expect(run.result).toMatchObject({ promptId: 'p-1', status: 'success', polls: 4 });
  expect(comfy.historyAt).toEqual([0, 1000, 2000, 3000]);
  expect(comfy.body).toMatchObject({ client_id: 'bench-client', prompt: { '1': { class_type: 'EmptyImage' } } });
  // One GET /view per image, with ComfyUI's three parameters; the bytes land on disk.
  expect(comfy.views).toEqual(['?filename=compare_00001_.png&subfolder=bench&type=output']);
  const file = run.result!.files[0]!;
  expect(file).toMatchObject({ filename: 'compare_00001_.png', subfolder: 'bench', type: 'output', bytes: PNG.length });
  expect(readFileSync(file.path)).toEqual(PNG);
  expect(file.path.startsWith(join(out, 'p-1'))).toBe(true);
});

test('a custom period is kept to the millisecond (the integration test polls faster)', async () => {
  const comfy = fakeComfy(FAKE_EPOCH + 250);
  const poller = new HistoryPoller({ baseUrl: 'http://x', clientId: 'c', outDir: out, fetch: comfy.fetch, pollMs: 200 });
  const run = watch(poller.run({}));
  await jest.advanceTimersByTimeAsync(399);
  await realPause(20);
  expect(run.result).toBeUndefined();
  await jest.advanceTimersByTimeAsync(1);
  await run.ended();
  expect(run.result?.polls).toBe(3);
  expect(comfy.historyAt).toEqual([0, 200, 400]);
});

test('deadline: an entry written at the last poll (maxWaitMs) is still found', async () => {
  const comfy = fakeComfy(FAKE_EPOCH + 3000);
  const poller = new HistoryPoller({ baseUrl: 'http://x', clientId: 'c', outDir: out, fetch: comfy.fetch, maxWaitMs: 3000 });
  const run = watch(poller.run({}));
  await jest.advanceTimersByTimeAsync(3000);
  await run.ended();
  expect(run.error).toBeUndefined();
  expect(run.result?.polls).toBe(4);
});

test('deadline: an entry written 1 ms after it is never waited for: the poller says how long it asked', async () => {
  const comfy = fakeComfy(FAKE_EPOCH + 3001);
  const poller = new HistoryPoller({ baseUrl: 'http://x', clientId: 'c', outDir: out, fetch: comfy.fetch, maxWaitMs: 3000 });
  const run = watch(poller.run({}));
  await jest.advanceTimersByTimeAsync(3000);
  await run.ended();
  expect(run.result).toBeUndefined();
  expect(run.error?.message).toBe('prompt p-1 was not in /history after 4 polls over 3000 ms');
  // It stopped: no fifth poll however long the clock runs.
  await jest.advanceTimersByTimeAsync(5000);
  expect(comfy.historyAt).toHaveLength(4);
});

test('a refused prompt is an error with the status and a bounded excerpt of the answer', async () => {
  const comfy = fakeComfy(0, { promptStatus: 400 });
  const poller = new HistoryPoller({ baseUrl: 'http://x', clientId: 'c', outDir: out, fetch: comfy.fetch });
  await expect(poller.run({})).rejects.toThrow('POST /prompt answered 400: {"error": "invalid prompt"}');
  expect(comfy.historyAt).toEqual([]);
});

test('a failed run is returned with its status and no files (nothing to download)', async () => {
  const comfy = fakeComfy(0, { entry: { outputs: {}, status: { status_str: 'error', completed: false } } });
  const poller = new HistoryPoller({ baseUrl: 'http://x', clientId: 'c', outDir: out, fetch: comfy.fetch });
  const r = await poller.run({});
  expect(r).toMatchObject({ status: 'error', files: [], polls: 1 });
  expect(comfy.views).toEqual([]);
});
