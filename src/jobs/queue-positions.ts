import type { ComfyClient } from '../comfy/client.js';
import type { JobTracker, TrackedJob } from '../../streams/job-tracker.js';

/**
 * Queue positions of our waiting jobs, and the end of those that left the queue without running:
 * ComfyUI sends no event at all for a prompt deleted from its queue (the ComfyUI window's queue
 * panel, "clear queue", another client), so without this check such a job would wait forever.
 * A prompt moves pending -> running -> history atomically, so one in none of them is gone.
 */
export async function refreshQueuePositions(
  jobs: JobTracker,
  client: Pick<ComfyClient, 'getQueue' | 'getHistory'>,
  cancelling: ReadonlySet<string>,
): Promise<void> {
  const queue = await client.getQueue();
  const ahead = queue.running.length;
  const running = new Set(queue.running.map((item) => item.promptId));
  const gone: TrackedJob[] = [];
  for (const job of jobs.activeJobs()) {
    if (job.state.status !== 'queued' || job.state.queueNumber === undefined) continue;
    const index = queue.pending.findIndex((item) => item.promptId === job.promptId);
    if (index >= 0) job.update((s) => (s.status === 'queued' ? { ...s, queuePosition: ahead + index } : s));
    else if (!running.has(job.promptId) && !cancelling.has(job.promptId)) gone.push(job);
  }
  for (const job of gone) {
    // Finished meanwhile (its events are on the way): not gone.
    if (job.finished || (await client.getHistory(job.promptId)) || cancelling.has(job.promptId)) continue;
    job.update((s) =>
      s.status === 'queued'
        ? {
            ...s,
            status: 'lost',
            endedAt: Date.now(),
            queuePosition: undefined,
            lostReason:
              "The prompt was removed from ComfyUI's queue before it ran (the queue panel of the ComfyUI window, " +
              '"clear queue", or another client), or ComfyUI restarted. Submit it again if you still want it.',
          }
        : s,
    );
    if (job.state.status === 'lost') void job.settle();
  }
}