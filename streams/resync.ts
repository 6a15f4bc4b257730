import { history, lost, queuePosition, seenRunning, type HistoryLike } from './job-facts.js';
import type { JobTracker } from './job-tracker.js';

/**
 * ComfyUI replays nothing after a disconnect, so after every reconnect each tracked prompt is
 * reconciled: `/queue` first, `/history` second. A prompt moves from running to history
 * atomically, so this order cannot miss one that finishes in between (the opposite order can).
 *   - in the queue  -> still queued or running: keep listening (same clientId, events resume)
 *   - in history    -> finished while we were away: the entry is a fact, the job settles from it
 *   - in neither    -> lost (ComfyUI restarted, or the prompt was deleted from its queue)
 * It only emits facts; the reducer decides what they change.
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

export const RESTARTED =
  'ComfyUI no longer knows this prompt: it is in neither its queue nor its history. ' +
  'ComfyUI was probably restarted (its queue and history live in memory), or the prompt was deleted from the queue. Submit it again.';

export async function resyncJobs(tracker: JobTracker, client: ResyncClient): Promise<ResyncResult> {
  const result: ResyncResult = { reattached: [], completed: [], lost: [] };
  // Only prompts ComfyUI accepted whose run is not over: one whose POST is still in flight is not
  // in the queue yet, and one settling already has its outcome.
  const jobs = tracker.activeJobs().filter((job) => job.state.queueNumber !== undefined && !job.finished && job.state.endedBy === undefined);
  if (jobs.length === 0) return result;
  const queue = await client.getQueue();
  const running = new Set(queue.running.map((item) => item.promptId));
  const pending = queue.pending.map((item) => item.promptId);
  const ending: Array<Promise<unknown>> = [];
  for (const job of jobs) {
    const id = job.promptId;
    if (running.has(id)) {
      job.emit(seenRunning);
      result.reattached.push(id);
      continue;
    }
    const index = pending.indexOf(id);
    if (index >= 0) {
      job.emit(queuePosition(running.size + index));
      result.reattached.push(id);
      continue;
    }
    const entry = await client.getHistory(id);
    job.emit(entry ? history(entry) : lost(RESTARTED));
    (entry ? result.completed : result.lost).push(id);
    ending.push(job.done);
  }
  await Promise.all(ending);
  return result;
}
