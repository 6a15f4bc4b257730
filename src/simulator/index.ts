import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { findFfmpeg } from '../media/ffmpeg.js';
import { OutputCache } from './cache.js';
import type { SimContext } from './context.js';
import { DataDir } from './data-dir.js';
import { Executor } from './executor.js';
import { SimulatorFaults } from './faults.js';
import { HistoryStore } from './history-store.js';
import { hostShape, type HostShapeOptions } from './host-shape.js';
import { createHttpServer } from './http-server.js';
import { NODE_IMPLS } from './nodes/registry.js';
import { DEFAULT_SIM_API, isSimApi, type SimApi } from './api-generation.js';
import { ModelMemory } from './model-memory.js';
import { buildObjectInfo } from './object-info.js';
import { PromptQueue } from './prompt-queue.js';
import { Worker } from './worker.js';
import { WsHub } from './ws-hub.js';

export { SimulatorFaults } from './faults.js';
export { SIM_APIS, type SimApi } from './api-generation.js';
export type { NodeMatch } from './faults.js';
export { SIMULATOR_CHECKPOINTS, SIMULATOR_LORAS, SIMULATOR_UPSCALE_MODELS, type HostShapeOptions } from './host-shape.js';

/** Host shape (checkpoints, loras, upscaleModels, omitNodes, modelLoadMs: src/simulator/host-shape.ts) and server settings. */
export interface SimulatorOptions extends HostShapeOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Per-step delay of KSampler (HarnessSlowProgress uses its own delay_ms input). */
  stepDelayMs?: number;
  /** 'none' like ComfyUI's default: no sampler previews; 'auto' sends a preview per step. */
  previewMethod?: 'none' | 'auto';
  /**
   * Gap between a run's terminal message (execution_success/_error/_interrupted) and the history
   * write, during which GET /history/{id} answers {} as on a real server. Default 25 ms.
   */
  historyWriteDelayMs?: number;
  /** Base folder with input/, output/, temp/, user/; default a fresh temp dir, removed by close(). */
  dataDir?: string;
  logger?: Logger;
  /** Emulate a reverse proxy: 401 (HTTP and WS upgrade) unless this header has this value. */
  authProxy?: { header: string; value: string };
  /**
   * The ComfyUI API generation to serve (docs/comfyui-api-generations.md): '0.3.64' (default) answers
   * 404 to the jobs routes as that version does; 'latest' serves GET /api/jobs, GET /api/jobs/{id},
   * POST /api/jobs/{id}/cancel and POST /api/jobs/cancel, and its /features carries today's flags.
   */
  api?: SimApi;
  /**
   * The ffmpeg the video nodes encode with, as COMFYWIRE_FFMPEG says it (a path, or `off` for none);
   * undefined: `ffmpeg` on PATH, else the optional dependency's (src/media/ffmpeg.ts locateFfmpeg).
   */
  ffmpeg?: string;
}

export interface Simulator {
  url: string;
  port: number;
  dataDir: string;
  faults: SimulatorFaults;
  /** The checkpoint this host holds loaded (its last CheckpointLoaderSimple run), if any. */
  loadedCheckpoint(): string | undefined;
  /**
   * Close the HTTP keep-alive connections that carry no request now, as a server does when its
   * keep-alive timeout passes (aiohttp: 75 s); WebSockets stay. Tests that count live objects use
   * it so each count sees the same connections.
   */
  closeIdleConnections(): void;
  close(): Promise<void>;
}

const DEFAULT_STEP_DELAY_MS = 50;

/** Start a ComfyUI-compatible server (HTTP + WS) on loopback. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const api = options.api ?? DEFAULT_SIM_API;
  if (!isSimApi(api)) throw new TypeError(`Unknown simulator api "${String(api).slice(0, 20)}": use 0.3.64 or latest.`);
  const shape = hostShape(options);
  const models = new ModelMemory(shape.modelLoadMs);
  // A folder of our own making is ours to remove: thousands of test and bench simulators left theirs in the temp dir.
  const ownDir = options.dataDir === undefined ? mkdtempSync(path.join(tmpdir(), 'comfywire-sim-')) : undefined;
  const files = new DataDir(options.dataDir ?? ownDir!);
  const history = new HistoryStore();
  const cache = new OutputCache();
  let hub: WsHub | undefined;
  const queue = new PromptQueue(() => hub?.send('status', { status: { exec_info: { queue_remaining: queue.remaining } } }, undefined));
  const objectInfo = (): ReturnType<typeof buildObjectInfo> => buildObjectInfo({
    checkpoints: shape.checkpoints, loras: shape.loras, upscaleModels: shape.upscaleModels, inputImages: files.listInputImages(), omitNodes: shape.omitNodes, customNodes: shape.customNodes,
  });
  let executor: Executor | undefined;
  hub = new WsHub({ queueRemaining: () => queue.remaining, runningNodeFor: (sid) => executor?.runningNodeFor(sid) }, options.logger);
  let stalled = false;
  // Upgrades that arrived while stalled; dropped on unstall so the client retries at once.
  let releaseHungUpgrades = (): void => undefined;
  let worker: Worker | undefined;
  const faults = new SimulatorFaults({
    dropSockets: () => hub.terminateAll(),
    sendRaw: (frame) => hub.sendRaw(frame),
    stallSockets: () => { stalled = true; hub.stallAll(); },
    garbleSockets: (garbled) => hub.setGarbled(garbled),
    unstallSockets: () => { stalled = false; hub.unstallAll(); releaseHungUpgrades(); },
    setWorkerPaused: (paused) => worker?.setPaused(paused),
    restart: async () => {
      hub.terminateAll();
      worker?.abandonCurrent();
      queue.reset();
      history.clear();
      cache.clear();
      models.forget();
      files.clearTemp();
    },
  });
  executor = new Executor({ hub, cache, files, faults, impls: NODE_IMPLS, objectInfo: objectInfo(), models, stepDelayMs: options.stepDelayMs ?? DEFAULT_STEP_DELAY_MS, previewMethod: options.previewMethod ?? 'none',
    ffmpeg: () => findFfmpeg(options.ffmpeg) });
  worker = new Worker({ queue, executor, history, hub, cache, models, faults, historyWriteDelayMs: options.historyWriteDelayMs });
  const ctx: SimContext = { queue, history, hub, executor, worker, files, faults, checkpoints: shape.checkpoints,
    modelFolders: { checkpoints: shape.checkpoints, loras: shape.loras, upscale_models: shape.upscaleModels }, objectInfo, logger: options.logger, api };
  const { server, wss, releaseHung } = createHttpServer(ctx, { authProxy: options.authProxy, stalled: () => stalled });
  releaseHungUpgrades = releaseHung;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  worker.start();
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  options.logger?.info(`comfywire simulator listening on http://${urlHost}:${port}`);
  return {
    url: `http://${urlHost}:${port}`,
    port,
    dataDir: files.root,
    faults,
    loadedCheckpoint: () => models.loaded,
    closeIdleConnections: () => server.closeIdleConnections(),
    async close() {
      hub.terminateAll();
      releaseHung();
      await worker.stop();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}
