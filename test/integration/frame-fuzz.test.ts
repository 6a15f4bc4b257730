import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { prepareGeneration } from '../../src/generation/prepare.js';
import type { Logger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { BinaryEventType } from '../../streams/binary-frames.js';
import { FRAME_WARNING_INTERVAL_MS } from '../../streams/frame-warnings.js';
import type { JobState } from '../../streams/job-state.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { stressCount, stressLabel } from '../helpers/stress.js';
import { deadline } from '../helpers/wait.js';

/**
 * Issue 10's hostile socket: malformed, truncated, oversized and unexpected frames, text and
 * binary, sent by the simulator over a real loopback WebSocket to the engine's one connection,
 * while real jobs run one after another on the same socket (their valid frames interleave with
 * the fuzz). Each fuzzed frame is followed by a marker frame (a custom node's message type, which
 * the engine passes on): the marker's arrival proves the frame before it was decoded and the
 * socket is still the same one. Nothing may crash, throw past the engine or reconnect; the
 * dropped-frame warnings stay one line at once and then one a minute; every job ends `success`
 * with its file on disk, the one running during the fuzz and the one started after it.
 */

const FRAMES = stressCount(5_000, 10_000);
const MARK = 'comfywire.fuzz.mark';
/** A marker frame's trip on loopback takes a millisecond; this bound only stops a hang. */
const MARK_WAIT_MS = 5_000;

const realProcess = vm.runInThisContext('process') as NodeJS.Process;

let sim: Simulator;
let engine: Engine;
let outputDir: string;
const warnings: string[] = [];
const escaped: string[] = [];
const onEscape = (kind: string) => (error: unknown) => void escaped.push(`${kind}: ${String(error).slice(0, 300)}`);
const onUncaught = onEscape('uncaughtException');
const onUnhandled = onEscape('unhandledRejection');

beforeAll(async () => {
  realProcess.on('uncaughtException', onUncaught);
  realProcess.on('unhandledRejection', onUnhandled);
  sim = await startSimulator({ port: 0, stepDelayMs: 2 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-frame-fuzz-'));
  const config = loadConfig({}, {
    envFile: join(outputDir, 'none.env'),
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS_DIR, COMFYWIRE_FEED: 'off' },
  });
  const keep = (m: string) => void warnings.push(m);
  const logger = { warn: keep, error: keep, info: () => undefined, debug: () => undefined } as unknown as Logger;
  engine = new Engine({ config, logger }).start();
  await engine.waitUntilOpen();
});

afterAll(async () => {
  await engine?.close();
  await sim?.close();
  rmSync(outputDir, { recursive: true, force: true });
  realProcess.off('uncaughtException', onUncaught);
  realProcess.off('unhandledRejection', onUnhandled);
});

// ---- the frames --------------------------------------------------------------------------------

const PROTO = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const KNOWN = ['status', 'execution_start', 'execution_cached', 'executing', 'progress', 'progress_state', 'executed', 'execution_success', 'execution_error', 'execution_interrupted', 'feature_flags'];
/** Never one of ours: the fuzz must not legitimately end a real job. */
const foreignId = fc.oneof(fc.uuid(), fc.constantFrom('', ...PROTO), fc.string({ maxLength: 40 }));
const nodeId = fc.oneof(fc.constantFrom('1', '3', '9', ...PROTO), fc.string({ maxLength: 12 }), fc.constant(null), fc.integer());
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...PROTO), fc.double(), fc.constant(-0));

/** Shaped like ComfyUI's messages, about prompts we never submitted, with fields of any type. */
const foreignMessage = fc.record({
  type: fc.constantFrom(...KNOWN),
  data: fc.record(
    {
      prompt_id: foreignId,
      node: nodeId,
      display_node: nodeId,
      value: anyValue,
      max: anyValue,
      timestamp: anyValue,
      nodes: fc.dictionary(fc.oneof(fc.constantFrom(...PROTO), fc.string({ maxLength: 5 })), anyValue, { maxKeys: 4 }),
      output: fc.oneof(anyValue, fc.record({ images: fc.array(fc.record({ filename: anyValue, subfolder: anyValue, type: anyValue }), { maxLength: 3 }) })),
      status: fc.oneof(anyValue, fc.record({ exec_info: fc.record({ queue_remaining: anyValue }) })),
      exception_message: anyValue,
      traceback: anyValue,
    },
    { requiredKeys: [] },
  ),
}).map((m) => JSON.stringify(m));

/** Well-formed frames, for cutting short. */
const wellFormed = fc.tuple(fc.constantFrom(...KNOWN), fc.uuid()).map(([type, id]) =>
  JSON.stringify({ type, data: { prompt_id: id, node: '3', value: 2, max: 20, timestamp: 1, status: { exec_info: { queue_remaining: 0 } } } }),
);
const truncated = wellFormed.chain((f) => fc.integer({ min: 0, max: f.length - 1 }).map((n) => f.slice(0, n)));

const deeplyNested = fc.tuple(fc.constantFrom('[', '{"a":', '{"type":"progress","data":', '{"type":"x.custom","data":['), fc.integer({ min: 100, max: 100_000 }))
  .map(([open, depth]) => open + '['.repeat(depth));
/** Valid JSON nested deep under a custom node's type: passed on, so it must not hurt anyone downstream. */
const deepCustom = fc.integer({ min: 100, max: 5_000 }).map((depth) => `{"type":"x.custom","data":${'['.repeat(depth)}${']'.repeat(depth)}}`);
const oversized = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom('garbage', 'progress_text', 'status', 'binary')).map(([mb, kind]): string | Buffer => {
  if (kind === 'binary') return Buffer.concat([u32(BinaryEventType.PREVIEW_IMAGE), u32(1), Buffer.alloc(mb * 1024 * 1024, 7)]);
  const filler = 'x'.repeat(mb * 1024 * 1024);
  return kind === 'garbage' ? filler : JSON.stringify({ type: kind, data: { text: filler, status: filler } });
});
const prototypeFrames = fc.constantFrom(
  '{"__proto__":{"type":"status"}}',
  '{"type":"__proto__","data":{}}',
  '{"type":"constructor","data":{"prototype":{}}}',
  '{"type":"hasOwnProperty","data":null}',
  '{"type":"status","data":{"__proto__":{"status":{"exec_info":{"queue_remaining":1}}}}}',
  '{"type":"executed","data":{"prompt_id":"__proto__","node":"constructor","output":{"__proto__":[]}}}',
  '{"type":"progress_state","data":{"prompt_id":"x","nodes":{"__proto__":{"state":"running"}}}}',
);
const textGarbage = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom('', ' ', 'null', '[]', '0', '"x"', 'true', '{}', '{"type":""}', '{"type":1}', '\u0000', '\ud800'));

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const binaryFrame = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  // A known or unknown event type, then anything.
  fc.tuple(fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5), fc.nat()), fc.uint8Array({ maxLength: 200 })).map(([t, rest]) => Buffer.concat([u32(t), Buffer.from(rest)])),
  // TEXT with a node id length past the end, or a text that is not UTF-8.
  fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 60 })).map(([len, rest]) => Buffer.concat([u32(BinaryEventType.TEXT), u32(len), Buffer.from(rest)])),
  // PREVIEW_IMAGE_WITH_METADATA: a metadata length past the end, or metadata that is not the object expected.
  fc.tuple(fc.oneof(fc.nat(), fc.constant(0xffffffff)), fc.oneof(anyValue.map((v) => JSON.stringify(v) ?? ''), fc.string({ maxLength: 50 })), fc.uint8Array({ maxLength: 40 }))
    .map(([len, meta, image]) => Buffer.concat([u32(BinaryEventType.PREVIEW_IMAGE_WITH_METADATA), u32(len), Buffer.from(meta), Buffer.from(image)])),
  fc.tuple(fc.record({ prompt_id: foreignId, node_id: nodeId, image_type: anyValue }, { requiredKeys: [] }), fc.uint8Array({ maxLength: 40 })).map(([meta, image]) => {
    const json = Buffer.from(JSON.stringify(meta));
    return Buffer.concat([u32(BinaryEventType.PREVIEW_IMAGE_WITH_METADATA), u32(json.length), json, Buffer.from(image)]);
  }),
);

/** Weights out of 200: a megabyte-sized frame now and then, not every twentieth. */
const frame: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 55, arbitrary: foreignMessage },
  { weight: 40, arbitrary: textGarbage },
  { weight: 30, arbitrary: truncated },
  { weight: 45, arbitrary: binaryFrame },
  { weight: 10, arbitrary: prototypeFrames },
  { weight: 9, arbitrary: deeplyNested },
  { weight: 9, arbitrary: deepCustom },
  { weight: 2, arbitrary: oversized },
);

// ---- markers and jobs ----------------------------------------------------------------------------

let markerSeen = -1;
const markerWaiters = new Map<number, () => void>();
function watchMarkers(): () => void {
  const sub = engine.events$.subscribe((e) => {
    if (e.type !== 'unknown' || e.data.type !== MARK) return;
    markerSeen = (e.data.data as { n: number }).n;
    markerWaiters.get(markerSeen)?.();
    markerWaiters.delete(markerSeen);
  });
  return () => sub.unsubscribe();
}
function marker(n: number): Promise<void> {
  const arrived = new Promise<void>((resolve) => markerWaiters.set(n, resolve));
  sim.faults.sendRawFrame(JSON.stringify({ type: MARK, data: { n } }));
  return deadline(arrived, MARK_WAIT_MS, `marker ${n} after the fuzzed frame`);
}

async function render(seed: number): Promise<JobState> {
  const { prompt } = await prepareGeneration(engine, { prompt: `fuzz ${seed}`, seed, width: 64, height: 64 });
  const job = await engine.submit(prompt, { download: true });
  return deadline(job.done, 60_000, `job ${seed}`);
}

it(`${FRAMES.toLocaleString('en-US')} malformed frames (${stressLabel()}) among a real job's: no crash, no reconnect, warnings rate-limited, every job ends with its file`, async () => {
  const stopMarkers = watchMarkers();
  let reconnects = 0;
  const reconnectSub = engine.connection.reconnected$.subscribe(() => reconnects++);
  const started = Date.now();
  // Jobs back to back for as long as the fuzz runs: there is always one whose frames interleave.
  let fuzzing = true;
  const during: JobState[] = [];
  const jobs = (async () => {
    for (let seed = 1; fuzzing || during.length === 0; seed++) during.push(await render(seed));
  })();

  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        // Checked per frame, so a frame that costs the socket fails itself and shrinks to the
        // smallest frame that does (not to whichever frame came next).
        const reconnectsBefore = reconnects;
        sim.faults.sendRawFrame(f);
        await marker(n++);
        expect(engine.connection.state).toBe('open');
        expect(reconnects - reconnectsBefore).toBe(0);
        expect(escaped).toEqual([]);
      }),
      { numRuns: FRAMES, seed: 10 },
    );
  } finally {
    fuzzing = false;
    await jobs.catch(() => undefined);
  }
  await jobs;
  const after = await render(1_000_000);
  const elapsed = Date.now() - started;
  reconnectSub.unsubscribe();
  stopMarkers();

  expect(markerSeen).toBe(n - 1);
  expect(during.length).toBeGreaterThan(0);
  for (const state of [...during, after]) {
    expect(state.status).toBe('success');
    expect(state.downloadErrors).toEqual([]);
    expect(state.files.length).toBe(1);
  }
  // The first dropped frame at once, then one line per interval with the count; never one per frame.
  const dropped = warnings.filter((w) => w.startsWith('Dropped'));
  expect(dropped.length).toBeGreaterThanOrEqual(1);
  expect(dropped.length).toBeLessThanOrEqual(1 + Math.ceil(elapsed / FRAME_WARNING_INTERVAL_MS));
  for (const line of warnings) expect(line.length).toBeLessThanOrEqual(600);
  expect(warnings.filter((w) => !w.startsWith('Dropped'))).toEqual([]);
  expect(escaped).toEqual([]);
}, 300_000);
