import type { ComfyClient } from '../comfy/client.js';
import { dequeued, queuePosition } from '../../streams/job-facts.js';
import type { TrackedJob } from '../../streams/job-tracker.js';
import { GONE_RECHECK_MS, confirmGone, whereAre } from '../../streams/where-is.js';

/**
 * Queue positions of our waiting jobs, and the end of those that left the queue without running:
 * ComfyUI sends no event at all for a prompt deleted from its queue (the ComfyUI window's queue
 * panel, "clear queue", another client), so without this check such a job would wait forever.
 * It only emits facts (`queue_position`, `dequeued`); the reducer applies them to waiting jobs only.
 *
 * A job is called removed only when it is in neither /queue nor /history twice, GONE_RECHECK_MS
 * apart, and only if ComfyUI had accepted it before the first /queue was asked for: under load
 * a POST can be answered while that /queue answer (made before the prompt was queued) is on its
 * way, and a server may write history a moment after the prompt left its queue. Either looked
 * like "removed" for one read (issue 8: 4 jobs of 200 in one run of ten).
 */
export async function refreshQueuePositions(
  jobs: readonly TrackedJob[],
  client: Pick<ComfyClient, 'getQueue' | 'getHistory'>,
  cancelling: ReadonlySet<string>,
  recheckMs = GONE_RECHECK_MS,
): Promise<void> {
  const waiting = (job: TrackedJob): boolean => job.state.status === 'queued' && !cancelling.has(job.promptId);
  // Decided before /queue is asked: a job accepted later may be missing from its answer.
  const known = jobs.filter((job) => waiting(job) && job.state.queueNumber !== undefined);
  if (known.length === 0) return;
  const first = await whereAre(client, known.map((job) => job.promptId));
  const missing: TrackedJob[] = [];
  for (const job of known) {
    const at = first.get(job.promptId);
    if (at?.where === 'pending') job.emit(queuePosition(at.ahead));
    else if (at?.where === 'nowhere' && waiting(job)) missing.push(job);
  }
  const again = await confirmGone(client, missing.map((job) => job.promptId), recheckMs);
  for (const job of missing) {
    const at = again.get(job.promptId);
    // Started or finished meanwhile (its events are on the way), or our own cancel took it: not gone.
    if (!waiting(job) || job.finished) continue;
    if (at?.where === 'pending') job.emit(queuePosition(at.ahead));
    else if (at?.where === 'nowhere') job.emit(dequeued('elsewhere'));
  }
}
