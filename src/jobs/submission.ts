import { randomUUID } from 'node:crypto';
import type { ComfyClient } from '../comfy/client.js';
import type { ApiPrompt } from '../comfy/types.js';
import { PromptRejectedError } from '../errors.js';
import type { CancelOutcome, SubmitOptions } from '../engine-api.js';
import { accepted, dequeued } from '../../streams/job-facts.js';
import { checkJobCap } from './job-cap.js';
import { postPrompt } from './post-prompt.js';
import type { JobTracker, TrackedJob } from '../../streams/job-tracker.js';

/**
 * Submitting a prompt and cancelling one. Both talk to ComfyUI over HTTP and tell the job what
 * happened as facts (`accepted`, `dequeued`); the reducer decides what that changes.
 */

export interface SubmissionDeps {
  client: Pick<ComfyClient, 'submitPrompt' | 'getQueue' | 'deleteFromQueue' | 'interrupt' | 'getHistory'> & Partial<Pick<ComfyClient, 'cancelJob'>>;
  tracker: JobTracker;
  /** Resolves once the socket is open (a submission's events must not fall into a gap). */
  waitUntilOpen(): Promise<void>;
  /** How many times the socket re-opened so far. */
  reconnects(): number;
  /** Jobs in ComfyUI this process may have at once (COMFYWIRE_MAX_ACTIVE_JOBS; 0 = no cap). */
  maxActiveJobs: number;
  /** The host's name, written into each job's state (src/fleet/hosts.ts). */
  hostName?: string;
  /** Ask for a queue refresh now; ask for one more resync. */
  refreshQueue(): void;
  resyncAgain(): void;
}

export class Submission {
  /** Jobs whose outputs are not to be downloaded (the submitter said so). */
  private readonly noDownload = new Set<string>();
  /** Jobs our own cancel() is taking out of the queue: their disappearance is expected. */
  readonly cancelling = new Set<string>();

  constructor(private readonly deps: SubmissionDeps) {}

  /** Jobs marked "no download" whose settling has not asked yet (diagnostics: flat when nothing leaks). */
  get pendingNoDownload(): number {
    return this.noDownload.size;
  }

  /** Whether to download this job's outputs; asked once, when it settles. */
  takeDownloadWish(promptId: string): boolean {
    return !this.noDownload.delete(promptId);
  }

  /**
   * Track, then submit: the prompt id is ours, so the route exists before ComfyUI can send a
   * single event (a fully cached prompt can finish before the HTTP reply arrives).
   */
  async submit(prompt: ApiPrompt, options: SubmitOptions = {}): Promise<TrackedJob> {
    const { client, tracker } = this.deps;
    await this.deps.waitUntilOpen();
    // Checked and tracked in one synchronous step: concurrent submissions cannot all pass the check.
    checkJobCap(tracker.activeJobs(), this.deps.maxActiveJobs);
    const promptId = options.promptId ?? randomUUID();
    const job = tracker.track(promptId, {
      prompt,
      ...(options.workflow ? { workflow: options.workflow } : {}),
      ...(this.deps.hostName !== undefined ? { host: this.deps.hostName } : {}),
      ...(options.dispatch !== undefined ? { dispatch: options.dispatch } : {}),
      ...(options.submittedAt !== undefined ? { submittedAt: options.submittedAt } : {}),
    });
    if (options.download === false) this.noDownload.add(promptId);
    let reply: Awaited<ReturnType<ComfyClient['submitPrompt']>>;
    const reconnectsBefore = this.deps.reconnects();
    try {
      reply = await postPrompt(client, prompt, {
        promptId,
        ...(options.front ? { front: true } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      tracker.discard(promptId);
      this.noDownload.delete(promptId);
      // Aborted mid-POST: ComfyUI may have queued it anyway. The id is ours, so take it back.
      if (options.signal?.aborted) void this.cancel(promptId).catch(() => undefined);
      throw err;
    }
    if (reply.nodeErrors.length > 0) {
      // ComfyUI accepted the prompt but dropped the outputs that failed validation. A half-run is
      // not what was asked for: take it back and report the problems as a rejection.
      // Forget the job first, so the withdrawal does not show up as a 'cancelled' job of ours.
      tracker.discard(promptId);
      this.noDownload.delete(promptId);
      await this.cancel(promptId).catch(() => undefined);
      throw new PromptRejectedError(
        'partial_rejection',
        'ComfyUI rejected part of the workflow: some outputs failed validation, so the prompt was withdrawn.',
        reply.nodeErrors,
        { hint: 'Fix the inputs listed below and submit again.', context: { promptId } },
      );
    }
    job.emit(accepted(reply.number));
    // ComfyUI broadcasts the enqueue status before it answers the POST, so that status found no
    // queued job of ours with a number yet: look up the position now.
    this.deps.refreshQueue();
    // A resync skips a prompt whose POST has not answered yet; if the socket dropped meanwhile,
    // this one's events may have fallen into the gap, so resync again now that it has a number.
    if (this.deps.reconnects() !== reconnectsBefore) this.deps.resyncAgain();
    return job;
  }

  /**
   * Interrupt a running prompt or take a pending one out of the queue: with POST
   * /api/jobs/{id}/cancel where the server has it (one call that picks the right one and never
   * touches another prompt), else /queue delete or /interrupt with the prompt_id (0.3.64).
   */
  async cancel(promptId: string): Promise<CancelOutcome> {
    const { client, tracker } = this.deps;
    const job = tracker.active(promptId);
    if (!job && tracker.get(promptId)) return 'already_finished';
    const queue = await client.getQueue();
    const pending = queue.pending.some((item) => item.promptId === promptId);
    // Its disappearance from the queue is ours, whichever way it is taken out.
    if (pending) this.cancelling.add(promptId);
    try {
      const targeted = await client.cancelJob?.(promptId);
      if (targeted !== undefined) return await this.afterTargetedCancel(promptId, job, pending, targeted);
      return pending ? await this.dequeue(promptId, job) : await this.interruptIfRunning(promptId, job);
    } finally {
      this.cancelling.delete(promptId);
    }
  }

  /** What the targeted cancel did: ComfyUI only says whether it acted. */
  private async afterTargetedCancel(promptId: string, job: TrackedJob | undefined, wasPending: boolean, cancelled: boolean): Promise<CancelOutcome> {
    const { client } = this.deps;
    if (!cancelled) {
      // Finished or unknown: a no-op there.
      if (job) return 'already_finished';
      return (await client.getHistory(promptId)) ? 'already_finished' : 'unknown';
    }
    if (!wasPending) return 'interrupted';
    // Dequeued, unless it started in between: then ComfyUI interrupted it instead.
    const after = await client.getQueue();
    if (after.running.some((item) => item.promptId === promptId)) return 'interrupted';
    if (job) {
      job.emit(dequeued('us'));
      await job.done;
    }
    return 'dequeued';
  }

  private async dequeue(promptId: string, job: TrackedJob | undefined): Promise<CancelOutcome> {
    const { client } = this.deps;
    await client.deleteFromQueue([promptId]);
    const after = await client.getQueue();
    // It may have started between the two calls: then it needs an interrupt after all.
    if (!after.running.some((item) => item.promptId === promptId)) {
      if (job) {
        job.emit(dequeued('us'));
        await job.done;
      }
      return 'dequeued';
    }
    return this.interruptIfRunning(promptId, job);
  }

  private async interruptIfRunning(promptId: string, job: TrackedJob | undefined): Promise<CancelOutcome> {
    const { client } = this.deps;
    const nowRunning = await client.getQueue();
    if (nowRunning.running.some((item) => item.promptId === promptId)) {
      await client.interrupt(promptId);
      return 'interrupted';
    }
    if (job) return 'already_finished';
    return (await client.getHistory(promptId)) ? 'already_finished' : 'unknown';
  }
}
