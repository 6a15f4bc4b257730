import type { ObjectInfo } from '../comfy/types.js';
import type { Logger } from '../logger.js';
import type { SimApi } from './api-generation.js';
import type { DataDir } from './data-dir.js';
import type { SimulatorFaults } from './faults.js';
import type { Executor } from './executor.js';
import type { HistoryStore } from './history-store.js';
import type { PromptQueue } from './prompt-queue.js';
import type { Worker } from './worker.js';
import type { WsHub } from './ws-hub.js';

/** Everything a route handler may touch. */
export interface SimContext {
  queue: PromptQueue;
  history: HistoryStore;
  hub: WsHub;
  executor: Executor;
  worker: Worker;
  files: DataDir;
  faults: SimulatorFaults;
  checkpoints: readonly string[];
  /** GET /models/{folder}: the folders this host has files in (checkpoints, loras, upscale_models). */
  modelFolders: Readonly<Record<string, readonly string[]>>;
  objectInfo(): ObjectInfo;
  logger?: Logger;
  /** The API generation served (api-generation.ts). */
  api: SimApi;
}
