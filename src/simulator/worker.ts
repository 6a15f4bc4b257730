import type { OutputCache } from './cache.js';
import { sleep } from './clock.js';
import type { Executor } from './executor.js';
import type { HistoryStore } from './history-store.js';
import type { PromptQueue } from './prompt-queue.js';
import type { WsHub } from './ws-hub.js';

/**
 * The single prompt worker: take the lowest item, run it, write history, broadcast status,
 * then tell the submitter `executing {node: null}` (the "history is readable" signal).
 */
/** Latency between an item being queued and the worker taking it. */
const PICKUP_DELAY_MS = 10;

export class Worker {
  private stopped = false;
  private paused = false;
  private resumeWaiters: Array<() => void> = [];
  private abort = new AbortController();
  private freeMemoryRequested = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: { queue: PromptQueue; executor: Executor; history: HistoryStore; hub: WsHub; cache: OutputCache }) {}

  start(): void {
    this.loop = this.run();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.resumeWaiters.splice(0).forEach((w) => w());
  }

  /** POST /free with free_memory: the next prompt recomputes everything. */
  requestFreeMemory(): void {
    this.freeMemoryRequested = true;
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
      history.add(item.promptId, entry);
      queue.finishRunning();
      if ('client_id' in item.extraData) hub.send('executing', { node: null, prompt_id: item.promptId }, String(item.extraData.client_id));
      this.applyFree();
    }
  }
}
