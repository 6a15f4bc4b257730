import { JobCapReachedError } from '../errors.js';
import type { JobHandle } from '../../streams/tracked-job.js';

/**
 * The cap on generation jobs per process (COMFYWIRE_MAX_ACTIVE_JOBS): a runaway agent loop should
 * fill its own backlog, not ComfyUI's queue. A job counts from the moment it is tracked (before its
 * POST) until it is seen to end (a final status, or the end of its run); downloading its outputs
 * afterwards does not hold a place.
 */

/** Jobs of ours that ComfyUI has queued or is running (or that are being submitted). */
export function jobsInComfy(jobs: readonly JobHandle[]): number {
  return jobs.filter((job) => !job.finished && job.state.endedBy === undefined).length;
}

/** Throws JobCapReachedError when another job would pass `cap` (0 = no cap), counting `submitting` ones too. */
export function checkJobCap(jobs: readonly JobHandle[], cap: number, submitting = 0): void {
  if (cap <= 0) return;
  // `submitting`: jobs past this check whose host has not tracked them yet (a fleet deciding where).
  const running = jobsInComfy(jobs) + submitting;
  if (running < cap) return;
  throw new JobCapReachedError(
    `Too many jobs: this comfywire process already has ${running} generation jobs queued or running in ComfyUI, its cap ` +
      '(COMFYWIRE_MAX_ACTIVE_JOBS); nothing was submitted.',
    {
      hint:
        'Retry when one ends: get_queue shows them, get_workflow_status follows one, cancel_job frees a place. ' +
        'COMFYWIRE_MAX_ACTIVE_JOBS sets the cap (0 = none).',
      context: { running, cap },
    },
  );
}
