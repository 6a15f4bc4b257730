import type { QueueItemArray } from './prompt-queue.js';

export interface HistoryEntry {
  prompt: QueueItemArray;
  outputs: Record<string, Record<string, unknown[]>>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: Array<[string, Record<string, unknown>]> };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

/** ComfyUI keeps at most this many entries, evicting the oldest. */
export const MAX_HISTORY = 10_000;

/** In-memory history in insertion order (a Map keeps it, as Python's dict does). */
export class HistoryStore {
  private readonly entries = new Map<string, HistoryEntry>();

  add(promptId: string, entry: HistoryEntry): void {
    // A duplicate prompt_id overwrites; Python's dict keeps the original position.
    this.entries.set(promptId, entry);
    while (this.entries.size > MAX_HISTORY) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get(promptId: string): HistoryEntry | undefined {
    return this.entries.get(promptId);
  }

  /** GET /history, the server's loop verbatim (offset < 0 means "the newest maxItems"). */
  list(maxItems?: number, offset = -1): Record<string, HistoryEntry> {
    const out: Record<string, HistoryEntry> = {};
    let count = 0;
    let start = offset;
    if (start < 0 && maxItems !== undefined) start = this.entries.size - maxItems;
    let i = 0;
    for (const [id, entry] of this.entries) {
      if (i >= start) {
        out[id] = entry;
        count++;
        if (maxItems !== undefined && count >= maxItems) break;
      }
      i++;
    }
    return out;
  }

  delete(promptId: string): void {
    this.entries.delete(promptId);
  }

  clear(): void {
    this.entries.clear();
  }
}
