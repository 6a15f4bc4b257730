import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { OutputCache } from './cache.js';
import type { SimContext } from './context.js';
import { DataDir } from './data-dir.js';
import { Executor } from './executor.js';
import { SimulatorFaults } from './faults.js';
import { HistoryStore } from './history-store.js';
import { createHttpServer } from './http-server.js';
import { NODE_IMPLS } from './nodes/registry.js';
import { buildObjectInfo } from './object-info.js';
import { PromptQueue } from './prompt-queue.js';
import { Worker } from './worker.js';
import { WsHub } from './ws-hub.js';

export { SimulatorFaults } from './faults.js';
export type { NodeMatch } from './faults.js';

export interface SimulatorOptions {
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
  /** Base folder with input/, output/, temp/, user/; default a fresh temp dir. */
  dataDir?: string;
  logger?: Logger;
  /** Emulate a reverse proxy: 401 (HTTP and WS upgrade) unless this header has this value. */
  authProxy?: { header: string; value: string };
  /** The checkpoints it has (default SIMULATOR_CHECKPOINTS): hosts of a test fleet may differ. */
  checkpoints?: readonly string[];
}

export interface Simulator {
  url: string;
  port: number;
  dataDir: string;
  faults: SimulatorFaults;
  close(): Promise<void>;
}

export const SIMULATOR_CHECKPOINTS = ['sd15-random.safetensors', 'v1-5-pruned-emaonly.safetensors'] as const;
const DEFAULT_STEP_DELAY_MS = 50;

/** Start a ComfyUI-compatible server (HTTP + WS) on loopback. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const files = new DataDir(options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'comfywire-sim-')));
  const history = new HistoryStore();
  const cache = new OutputCache();
  let hub: WsHub | undefined;
  const queue = new PromptQueue(() => hub?.send('status', { status: { exec_info: { queue_remaining: queue.remaining } } }, undefined));
  const checkpoints = options.checkpoints ?? SIMULATOR_CHECKPOINTS;
  const objectInfo = (): ReturnType<typeof buildObjectInfo> => buildObjectInfo({ checkpoints: [...checkpoints], inputImages: files.listInputImages() });
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
      files.clearTemp();
    },
  });
  executor = new Executor({ hub, cache, files, faults, impls: NODE_IMPLS, objectInfo: objectInfo(), stepDelayMs: options.stepDelayMs ?? DEFAULT_STEP_DELAY_MS, previewMethod: options.previewMethod ?? 'none' });
  worker = new Worker({ queue, executor, history, hub, cache, faults, historyWriteDelayMs: options.historyWriteDelayMs });
  const ctx: SimContext = { queue, history, hub, executor, worker, files, faults, checkpoints, objectInfo, logger: options.logger };
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
    async close() {
      hub.terminateAll();
      releaseHung();
      await worker.stop();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
