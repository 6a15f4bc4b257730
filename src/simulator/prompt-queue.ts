import type { ApiPrompt } from '../comfy/types.js';
import { heapify, heapPop, heapPush } from './heap.js';

/** One queue item, the 5-element array ComfyUI shows in /queue and history. */
export interface QueueItem {
  number: number;
  promptId: string;
  prompt: ApiPrompt;
  extraData: Record<string, unknown>;
  outputs: string[];
}

export type QueueItemArray = [number, string, ApiPrompt, Record<string, unknown>, string[]];

export function itemArray(item: QueueItem): QueueItemArray {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputs];
}

/** Python compares the item tuples: number first, then prompt_id as a string. */
function less(a: QueueItem, b: QueueItem): boolean {
  if (a.number !== b.number) return a.number < b.number;
  return a.promptId < b.promptId;
}

/**
 * Pending heap + the single running item + the prompt counter. Every change calls
 * `onChange` (the server broadcasts a `status` then).
 */
export class PromptQueue {
  private heap: QueueItem[] = [];
  private runningItem: QueueItem | undefined;
  private counter = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly onChange: () => void) {}

  /** The number a new prompt gets: the counter (negated with `front`), which always advances. */
  nextNumber(front: boolean): number {
    const n = this.counter++;
    return front ? -n : n;
  }

  put(item: QueueItem): void {
    heapPush(this.heap, item, less);
    this.onChange();
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Resolves true once an item is pending, or false as soon as `stop()` says so. */
  async waitForItem(stop: () => boolean): Promise<boolean> {
    while (this.heap.length === 0) {
      if (stop()) return false;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return !stop();
  }

  /** Pops the lowest item; it becomes the running item. */
  take(): QueueItem | undefined {
    const item = heapPop(this.heap, less);
    if (!item) return undefined;
    this.runningItem = item;
    this.onChange();
    return item;
  }

  /** Wakes a pending waitForItem() so a stopping worker can notice. */
  wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  finishRunning(): void {
    this.runningItem = undefined;
    this.onChange();
  }

  get running(): QueueItem | undefined {
    return this.runningItem;
  }

  /** The raw heap array, deliberately not sorted. */
  get pending(): readonly QueueItem[] {
    return this.heap;
  }

  get remaining(): number {
    return this.heap.length + (this.runningItem ? 1 : 0);
  }

  /**
   * Like ComfyUI: remove the first match, re-heapify, notify; unknown ids do nothing. Removing
   * the only pending item goes through wipe_queue() there, which notifies too, so that case
   * broadcasts two identical `status` frames (seen on a real 0.3.64).
   */
  delete(promptId: string): void {
    const index = this.heap.findIndex((i) => i.promptId === promptId);
    if (index < 0) return;
    if (this.heap.length === 1) {
      this.clear();
    } else {
      this.heap.splice(index, 1);
      heapify(this.heap, less);
    }
    this.onChange();
  }

  clear(): void {
    this.heap = [];
    this.onChange();
  }

  /** Server restart: everything including the counter is gone. */
  reset(): void {
    this.heap = [];
    this.runningItem = undefined;
    this.counter = 0;
  }
}
