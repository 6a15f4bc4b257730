import type { ComfyClient } from '../comfy/client.js';
import { dequeued, queuePosition } from '../../streams/job-facts.js';
import type { TrackedJob } from '../../streams/job-tracker.js';

/**
 * Queue positions of our waiting jobs, and the end of those that left the queue without running:
 * ComfyUI sends no event at all for a prompt deleted from its queue (the ComfyUI window's queue
 * panel, "clear queue", another client), so without this check such a job would wait forever.
 * A prompt moves pending -> running -> history atomically, so one in none of them is gone.
 * It only emits facts (`queue_position`, `dequeued`); the reducer applies them to waiting jobs only.
 */
export async function refreshQueuePositions(
  jobs: readonly TrackedJob[],
  client: Pick<ComfyClient, 'getQueue' | 'getHistory'>,
  cancelling: ReadonlySet<string>,
): Promise<void> {
  const queue = await client.getQueue();
  const ahead = queue.running.length;
  const running = new Set(queue.running.map((item) => item.promptId));
  const gone: TrackedJob[] = [];
  for (const job of jobs) {
    if (job.state.status !== 'queued' || job.state.queueNumber === undefined) continue;
    const index = queue.pending.findIndex((item) => item.promptId === job.promptId);
    if (index >= 0) job.emit(queuePosition(ahead + index));
    else if (!running.has(job.promptId) && !cancelling.has(job.promptId)) gone.push(job);
  }
  for (const job of gone) {
    // Finished meanwhile (its events are on the way): not gone.
    if (job.finished || (await client.getHistory(job.promptId)) || cancelling.has(job.promptId)) continue;
    job.emit(dequeued('elsewhere'));
  }
}
