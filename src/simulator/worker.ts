import type { OutputCache } from './cache.js';
import { sleep } from './clock.js';
import type { Executor } from './executor.js';
import type { SimulatorFaults } from './faults.js';
import type { HistoryStore } from './history-store.js';
import type { ModelMemory } from './model-memory.js';
import type { PromptQueue } from './prompt-queue.js';
import { clientTarget, type WsHub } from './ws-hub.js';

/**
 * The single prompt worker: take the lowest item, run it, write history, broadcast status,
 * then tell the submitter `executing {node: null}` (the "history is readable" signal).
 *
 * The history race is kept on purpose: ComfyUI queues execution_success / execution_error /
 * execution_interrupted before its worker thread writes the history entry (protocol 6.2), so
 * between the terminal message and `executing {node: null}` the item is still in
 * `queue_running` and GET /history/{id} answers `{}`. A client that reads history at the
 * terminal message must retry or wait for `executing {node: null}`; the window is widened here
 * (historyWriteDelayMs) so such a client fails every time instead of once in a while.
 */
/** Latency between an item being queued and the worker taking it. */
export const PICKUP_DELAY_MS = 10;
/** Default gap between the terminal message and the history write (recorded: 0-3 ms, wider under load). */
export const DEFAULT_HISTORY_WRITE_DELAY_MS = 25;

export class Worker {
  private stopped = false;
  private paused = false;
  private resumeWaiters: Array<() => void> = [];
  private abort = new AbortController();
  private freeMemoryRequested = false;
  private unloadRequested = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: { queue: PromptQueue; executor: Executor; history: HistoryStore; hub: WsHub; cache: OutputCache; models?: ModelMemory; faults?: SimulatorFaults; historyWriteDelayMs?: number }) {}

  start(): void {
    this.loop = this.run();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.resumeWaiters.splice(0).forEach((w) => w());
  }

  /**
   * POST /free, applied when the worker is idle: free_memory makes the next prompt recompute
   * everything; unload_models (which free_memory implies, as in main.py's prompt_worker) drops
   * the loaded checkpoint, so the next CheckpointLoaderSimple that runs pays the load again.
   */
  requestFree(flags: { freeMemory: boolean; unloadModels: boolean }): void {
    this.freeMemoryRequested ||= flags.freeMemory;
    this.unloadRequested ||= flags.unloadModels || flags.freeMemory;
    if (!this.deps.queue.running) this.applyFree();
  }

  /** Restart: abandon the running prompt silently (a dead process sends nothing). */
  abandonCurrent(): void {
    this.abort.abort();
    this.abort = new AbortController();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.setPaused(false);
    this.deps.queue.wake();
    await this.loop;
  }

  private applyFree(): void {
    if (this.unloadRequested) this.deps.models?.forget();
    this.unloadRequested = false;
    if (!this.freeMemoryRequested) return;
    this.freeMemoryRequested = false;
    this.deps.cache.clear();
  }

  private async run(): Promise<void> {
    const { queue, executor, history, hub } = this.deps;
    while (!this.stopped) {
      while (this.paused && !this.stopped) await new Promise<void>((r) => this.resumeWaiters.push(r));
      if (!(await queue.waitForItem(() => this.stopped || this.paused))) continue;
      // ComfyUI's worker is another thread: a prompt posted right after another one is
      // usually queued before the worker picks the first (recorded: status 1, 2, 2).
      await sleep(PICKUP_DELAY_MS);
      if (this.stopped || this.paused) continue;
      const item = queue.take();
      if (!item) continue;
      const signal = this.abort.signal;
      const entry = await executor.run(item, signal).catch(() => undefined);
      if (signal.aborted || !entry) continue;
      // The terminal message is out; the entry is not written yet (see above).
      await sleep(this.deps.historyWriteDelayMs ?? DEFAULT_HISTORY_WRITE_DELAY_MS, signal);
      if (signal.aborted) continue;
      const gapMs = this.deps.faults?.historyGapMs ?? 0;
      if (gapMs > 0) {
        // Fault: out of the queue first, into history later (ComfyUI does both under one lock).
        queue.finishRunning();
        await sleep(gapMs, signal);
        if (signal.aborted) continue;
        history.add(item.promptId, entry);
      } else {
        history.add(item.promptId, entry);
        queue.finishRunning();
      }
      // main.py: only when server.client_id is not None (a null client_id counts as absent).
      const target = clientTarget(item.extraData);
      if (target !== undefined) hub.send('executing', { node: null, prompt_id: item.promptId }, target);
      this.applyFree();
    }
  }
}
