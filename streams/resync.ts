import { history, lost, queuePosition, seenRunning } from './job-facts.js';
import type { JobTracker } from './job-tracker.js';
import { GONE_RECHECK_MS, confirmGone, whereAre, type WhereClient } from './where-is.js';

/**
 * ComfyUI replays nothing after a disconnect, so after every reconnect each tracked prompt is
 * reconciled: `/queue` first, `/history` second. A prompt moves from running to history
 * atomically, so this order cannot miss one that finishes in between (the opposite order can).
 *   - in the queue  -> still queued or running: keep listening (same clientId, events resume)
 *   - in history    -> finished while we were away: the entry is a fact, the job settles from it
 *   - in neither    -> lost (ComfyUI restarted, or the prompt was deleted from its queue), once
 *                      a second look GONE_RECHECK_MS later finds it nowhere either (where-is.ts)
 * It only emits facts; the reducer decides what they change.
 */
export type ResyncClient = WhereClient;

export interface ResyncResult {
  reattached: string[];
  completed: string[];
  lost: string[];
}

export const RESTARTED =
  'ComfyUI no longer knows this prompt: it is in neither its queue nor its history. ' +
  'ComfyUI was probably restarted (its queue and history live in memory), or the prompt was deleted from the queue. Submit it again.';

export async function resyncJobs(tracker: JobTracker, client: ResyncClient, recheckMs = GONE_RECHECK_MS): Promise<ResyncResult> {
  const result: ResyncResult = { reattached: [], completed: [], lost: [] };
  // Only prompts ComfyUI accepted whose run is not over: one whose POST is still in flight is not
  // in the queue yet, and one settling already has its outcome.
  const jobs = tracker.activeJobs().filter((job) => job.state.queueNumber !== undefined && !job.finished && job.state.endedBy === undefined);
  if (jobs.length === 0) return result;
  const first = await whereAre(client, jobs.map((job) => job.promptId));
  // Found nowhere: looked for once more before being called lost (see where-is.ts).
  const again = await confirmGone(client, [...first].filter(([, at]) => at.where === 'nowhere').map(([id]) => id), recheckMs);
  const ending: Array<Promise<unknown>> = [];
  for (const job of jobs) {
    const id = job.promptId;
    const at = again.get(id) ?? first.get(id);
    if (at === undefined) continue;
    if (at.where === 'running' || at.where === 'pending') {
      job.emit(at.where === 'running' ? seenRunning : queuePosition(at.ahead));
      result.reattached.push(id);
      continue;
    }
    job.emit(at.where === 'history' ? history(at.entry) : lost(RESTARTED));
    (at.where === 'history' ? result.completed : result.lost).push(id);
    ending.push(job.done);
  }
  await Promise.all(ending);
  return result;
}
