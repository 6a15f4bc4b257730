import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { ComfyUnreachableError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { WebSocketLike } from '../../streams/connection.js';
import type { JobState } from '../../streams/job-state.js';
import type { TrackedJob } from '../../streams/job-tracker.js';
import { advance, advanceUntil, realPause, untilReal, useFakeClock, useRealClock, closeOnFakeClock } from '../helpers/fake-clock.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * The socket's limits with the real engine, the simulator and real loopback sockets, on a clock
 * the test controls: the default stall timeout (45 s) and ping interval (15 s) against a ComfyUI
 * that is silent for 10 minutes or an hour (a model load: slowNode) but answers pings, and against
 * one that stops answering altogether (stallSockets); and Engine.waitUntilOpen's deadline.
 */

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const STALL = 45 * S;

/** What the engine's sockets did, seen from a wrapper around each real `ws` socket. */
interface SocketLog {
  frames: number[];
  pongs: number[];
  openedAt?: number;
  /** When the engine gave the socket up (terminate() for a stalled peer). */
  terminatedAt?: number;
  closedAt?: number;
}

let sim: Simulator | undefined;
let engine: Engine | undefined;
let outputDir: string | undefined;
let sockets: SocketLog[] = [];

function recordingFactory(url: string, headers: Record<string, string>): WebSocketLike {
  const ws = new WebSocket(url, { headers });
  const log: SocketLog = { frames: [], pongs: [] };
  sockets.push(log);
  ws.on('open', () => (log.openedAt = Date.now()));
  ws.on('message', () => log.frames.push(Date.now()));
  ws.on('pong', () => log.pongs.push(Date.now()));
  ws.on('close', () => (log.closedAt = Date.now()));
  const terminate = ws.terminate.bind(ws);
  ws.terminate = () => {
    log.terminatedAt ??= Date.now();
    terminate();
  };
  return ws as unknown as WebSocketLike;
}

const lastLife = (log: SocketLog) => Math.max(log.openedAt ?? 0, ...log.frames, ...log.pongs);

/** Simulator and engine with the default socket limits; HTTP deadlines are another file's business. */
async function start(env: Record<string, string> = {}): Promise<{ sim: Simulator; engine: Engine }> {
  useFakeClock();
  sockets = [];
  sim = await startSimulator({ port: 0, stepDelayMs: 10 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-limits-'));
  const config = loadConfig(
    {},
    {
      cwd: tmpdir(),
      overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: String(10 * HOUR), ...env },
    },
  );
  expect([config.stallTimeoutMs, config.pingIntervalMs]).toEqual([STALL, 15 * S]);
  engine = new Engine({ config, logger: silentLogger(), webSocketFactory: recordingFactory });
  return { sim, engine };
}

afterEach(async () => {
  await closeOnFakeClock(engine?.close(), sim?.close());
  if (outputDir) rmSync(outputDir, { recursive: true, force: true });
  sim = engine = outputDir = undefined;
});

async function submitted(e: Engine, promise: Promise<TrackedJob>): Promise<TrackedJob> {
  let job: TrackedJob | undefined;
  void promise.then((j) => (job = j));
  await advanceUntil(() => job !== undefined, MIN, { stepMs: 10 });
  expect(e.jobs.get(job!.promptId)).toBeDefined();
  return job!;
}

function watch(job: TrackedJob): { final?: JobState } {
  const w: { final?: JobState } = {};
  void job.done.then((s) => (w.final = s));
  return w;
}

describe('a ComfyUI that sends no frame for a long time but answers pings keeps its socket', () => {
  for (const [label, silence] of [['10 minutes', 10 * MIN], ['1 hour', HOUR]] as const) {
    it(`a node silent for ${label} (model load): no reconnect, pongs every 15 s, the job completes`, async () => {
      const { sim, engine } = await start();
      engine.start();
      await advanceUntil(() => engine.connection.state === 'open', 10 * S, { stepMs: 10 });
      const states: string[] = [];
      engine.connection.state$.subscribe((s) => states.push(s));
      sim.faults.slowNode({ classType: 'HarnessSlowProgress' }, silence);
      const job = await submitted(engine, engine.submit(slowPrompt(3, 10), { download: false }));
      const w = watch(job);
      await advanceUntil(() => w.final !== undefined, silence + 5 * MIN, { stepMs: 5 * S });

      expect(w.final!.status).toBe('success');
      expect(sockets).toHaveLength(1);
      expect(states).toEqual(['open']);
      // The silence was real: no frame at all for the whole load...
      const frames = sockets[0]!.frames;
      const longestGap = Math.max(...frames.slice(1).map((t, i) => t - frames[i]!));
      expect(longestGap).toBeGreaterThanOrEqual(silence);
      // ...and only the pongs (about one per 15 s) kept the stall watch quiet.
      expect(sockets[0]!.pongs.length).toBeGreaterThanOrEqual(silence / (15 * S) - 1);
      expect(sockets[0]!.terminatedAt).toBeUndefined();
    });
  }
});

describe('a ComfyUI that stops answering pings too', () => {
  it('is given up exactly 45 s after its last sign of life, not before; the job completes after the reconnect', async () => {
    const { sim, engine } = await start();
    engine.start();
    await advanceUntil(() => engine.connection.state === 'open', 10 * S, { stepMs: 10 });
    sim.faults.slowNode({ classType: 'HarnessSlowProgress' }, 5 * MIN);
    const job = await submitted(engine, engine.submit(slowPrompt(3, 10), { download: false }));
    const w = watch(job);
    await advance(2 * MIN, { stepMs: 5 * S });
    expect(sockets).toHaveLength(1);

    sim.faults.stallSockets();
    await realPause(20); // a pong already on its way still lands
    const first = sockets[0]!;
    const deadline = lastLife(first) + STALL;
    // Just below the limit: the socket is still ours.
    await advance(deadline - 250 - Date.now(), { stepMs: 1_000 });
    expect(first.terminatedAt).toBeUndefined();
    expect(engine.connection.state).toBe('open');
    expect(sockets).toHaveLength(1);
    // Just above: given up at the limit to the millisecond, and a new socket is dialed.
    await advance(500, { stepMs: 50 });
    expect(first.terminatedAt).toBe(deadline);
    await advanceUntil(() => sockets.length === 2, 5 * S, { stepMs: 50 });
    expect(engine.connection.state).toBe('reconnecting'); // the stalled server holds the upgrade

    sim.faults.unstallSockets();
    await advanceUntil(() => w.final !== undefined, 10 * MIN, { stepMs: 1_000 });
    expect(w.final!.status).toBe('success');
  });
});

/** Notes when waitUntilOpen's HTTP probe (GET /prompt) has its answer: its deadline counts from there. */
function probeDone(e: Engine): { at: number } {
  const probed = { at: 0 };
  const probe = e.client.getPromptCounter.bind(e.client);
  e.client.getPromptCounter = async () => {
    const n = await probe();
    probed.at = Date.now();
    return n;
  };
  return probed;
}

describe('Engine.waitUntilOpen (default: the request timeout, 30 s)', () => {
  it('a socket that cannot open: still waiting at 29.75 s, the typed error at 30 s', async () => {
    const { sim, engine } = await start({ COMFYWIRE_REQUEST_TIMEOUT_MS: String(30 * S) });
    sim.faults.stallSockets(); // HTTP answers, the WebSocket upgrade hangs
    engine.start();
    const probed = probeDone(engine);
    let error: unknown;
    let settledAt = 0;
    void engine.waitUntilOpen().catch((e: unknown) => {
      error = e;
      settledAt = Date.now();
    });
    await untilReal(() => probed.at > 0); // the HTTP probe first; the 30 s count from its answer
    await advance(30 * S - 250, { stepMs: 250 });
    expect(settledAt).toBe(0);
    await advanceUntil(() => settledAt > 0, 5 * S, { stepMs: 50 });
    expect(settledAt - probed.at).toBe(30 * S);
    expect(error).toBeInstanceOf(ComfyUnreachableError);
    expect(error).toMatchObject({ context: { reason: 'the WebSocket did not open within 30000 ms' } });
    // HTTP answered: the message says the socket is what fails, and the hint where to look.
    expect((error as ComfyUnreachableError).message).toBe(
      `ComfyUI answers HTTP at ${sim.url}, but its WebSocket (/ws) did not open within 30000 ms.`,
    );
    expect((error as ComfyUnreachableError).hint).toMatch(/proxy .* WebSocket upgrades on \/ws/);
    sim.faults.unstallSockets();
  });

  it('a socket that opens at 28 s: resolves before the limit', async () => {
    const { sim, engine } = await start({ COMFYWIRE_REQUEST_TIMEOUT_MS: String(30 * S) });
    sim.faults.stallSockets();
    engine.start();
    const probed = probeDone(engine);
    let outcome: unknown;
    void engine.waitUntilOpen().then(() => (outcome = 'open'), (e: unknown) => (outcome = e));
    await untilReal(() => probed.at > 0);
    const startedAt = Date.now();
    await advance(28 * S, { stepMs: 250 });
    expect(outcome).toBeUndefined();
    sim.faults.unstallSockets(); // the held upgrade is dropped; the retry opens after <= 500 ms
    await advanceUntil(() => outcome !== undefined, 5 * S, { stepMs: 25 });
    expect(outcome).toBe('open');
    expect(Date.now() - startedAt).toBeLessThan(30 * S);
  });
});
