import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { JobState, JobStatus } from '../../streams/job-state.js';
import { ComfywireError } from '../errors.js';
import { isCallStatus, type CallStatus } from './record.js';

/** How a tool result, a thrown error or a job's final state reads in the call log. */

/** Codes of a call comfywire refused before anything reached ComfyUI (its input, its limits). */
export const REFUSED_CODES: ReadonlySet<string> = new Set([
  'PARAMETER_INVALID', 'UNSAFE_PATH', 'WORKFLOW_NOT_FOUND', 'WORKFLOW_INVALID', 'RATE_LIMITED', 'JOB_CAP_REACHED', 'NO_ELIGIBLE_HOST',
]);

export interface Outcome {
  status: CallStatus;
  errorCode?: string;
  promptId?: string;
  workflow?: string;
  /** A job handed back still queued or running: its end is logged when it comes. */
  pending?: boolean;
}

export function errorOutcome(error: unknown): Outcome {
  if (!(error instanceof ComfywireError)) return { status: 'error' };
  const status: CallStatus = REFUSED_CODES.has(error.code)
    ? 'refused'
    : error.code === 'CANCELLED'
      ? 'cancelled'
      : error.context['reason'] === 'timeout'
        ? 'timed-out'
        : 'error';
  return { status, errorCode: error.code };
}

/** Structured results carry `status` and `prompt_id` at the top when they are about one job. */
export function resultOutcome(result: CallToolResult): Outcome {
  const s = (result.structuredContent ?? {}) as Record<string, unknown>;
  const out: Outcome = { status: result.isError ? 'error' : 'success' };
  if (typeof s['prompt_id'] === 'string') out.promptId = s['prompt_id'];
  if (typeof s['workflow'] === 'string') out.workflow = s['workflow'];
  const jobStatus = s['status'];
  if (typeof s['cancel_outcome'] === 'string') out.status = 'cancelled';
  else if (jobStatus === 'queued' || jobStatus === 'running') {
    out.status = 'queued';
    out.pending = out.promptId !== undefined;
  } else if (isCallStatus(jobStatus)) out.status = jobStatus;
  return out;
}

const FINAL: Record<JobStatus, CallStatus> = {
  success: 'success',
  error: 'error',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
  lost: 'lost',
  // Not final: only reached when a caller logs a job it stopped waiting for.
  queued: 'timed-out',
  running: 'timed-out',
};

export function jobOutcome(state: JobState): Outcome {
  const out: Outcome = { status: FINAL[state.status], promptId: state.promptId };
  if (state.workflow !== undefined) out.workflow = state.workflow;
  return out;
}
