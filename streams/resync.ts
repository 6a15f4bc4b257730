import type { HistoryLike } from './history-state.js';
import { applyHistory } from './history-state.js';
import type { JobTracker } from './job-tracker.js';

/**
 * ComfyUI replays nothing after a disconnect, so after every reconnect each tracked prompt is
 * reconciled: `/queue` first, `/history` second. A prompt moves from running to history
 * atomically, so this order cannot miss one that finishes in between (the opposite order can).
 *   - in the queue  -> still queued or running: keep listening (same clientId, events resume)
 *   - in history    -> finished while we were away: complete it from history, outputs included
 *   - in neither    -> lost (ComfyUI restarted, or the prompt was deleted from its queue)
 */
export interface ResyncClient {
  getQueue(): Promise<{ running: Array<{ promptId: string }>; pending: Array<{ promptId: string }> }>;
  getHistory(promptId: string): Promise<HistoryLike | undefined>;
}

export interface ResyncResult {
  reattached: string[];
  completed: string[];
  lost: string[];
}

export async function resyncJobs(tracker: JobTracker, client: ResyncClient): Promise<ResyncResult> {
  const result: ResyncResult = { reattached: [], completed: [], lost: [] };
  // Only prompts ComfyUI accepted: one whose POST is still in flight is not in the queue yet.
  const jobs = tracker.activeJobs().filter((job) => job.state.queueNumber !== undefined && !job.finished);
  if (jobs.length === 0) return result;
  const queue = await client.getQueue();
  const running = new Set(queue.running.map((item) => item.promptId));
  const pending = queue.pending.map((item) => item.promptId);
  const settling: Array<Promise<void>> = [];
  for (const job of jobs) {
    const id = job.promptId;
    if (running.has(id)) {
      job.update((s) => ({ ...s, status: 'running', queuePosition: undefined, startedAt: s.startedAt ?? tracker.now() }));
      result.reattached.push(id);
      continue;
    }
    const index = pending.indexOf(id);
    if (index >= 0) {
      job.update((s) => ({ ...s, status: 'queued', queuePosition: running.size + index }));
      result.reattached.push(id);
      continue;
    }
    const entry = await client.getHistory(id);
    if (entry) {
      job.update((s) => applyHistory(s, entry, job.ctx, tracker.now()));
      result.completed.push(id);
    } else {
      job.update((s) => ({
        ...s,
        status: 'lost',
        endedAt: tracker.now(),
        lostReason:
          'ComfyUI no longer knows this prompt: it is in neither its queue nor its history. ' +
          'ComfyUI was probably restarted (its queue and history live in memory), or the prompt was deleted from the queue. Submit it again.',
      }));
      result.lost.push(id);
    }
    settling.push(job.settle());
  }
  await Promise.all(settling);
  return result;
}
