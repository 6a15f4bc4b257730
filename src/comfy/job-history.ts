import { safeParse } from '../safe-parse.js';
import { HistoryEntrySchema, type HistoryEntry, type JobInfo } from './schemas.js';

/** The jobs API's statuses of a job that is over (it is in ComfyUI's history). */
export const FINISHED_JOB_STATUSES: ReadonlySet<JobInfo['status']> = new Set(['completed', 'failed', 'cancelled']);

/**
 * A finished job's detail (GET /api/jobs/{id}) as the /history entry it was made from
 * (comfy_execution/jobs.py normalize_history_item: outputs, execution_status = the entry's status,
 * workflow = its prompt and extra_data), so it folds through the same `history` fact. A detail
 * without a readable status gets one from the job's own status, with no messages.
 */
export function historyFromJob(job: JobInfo): HistoryEntry | undefined {
  if (!FINISHED_JOB_STATUSES.has(job.status)) return undefined;
  const fallback = { status_str: job.status === 'completed' ? 'success' : 'error', completed: job.status === 'completed', messages: [] };
  const prompt = [job['priority'] ?? 0, job.id, job.workflow?.prompt ?? {}, job.workflow?.extra_data ?? {}, []];
  const parsed = safeParse(HistoryEntrySchema, { prompt, outputs: job.outputs ?? {}, status: job.execution_status ?? fallback });
  if (parsed.success) return parsed.data;
  const plain = safeParse(HistoryEntrySchema, { prompt, outputs: job.outputs ?? {}, status: fallback });
  return plain.success ? plain.data : undefined;
}
