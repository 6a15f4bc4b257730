import type { HistoryEntry } from './history-store.js';
import type { QueueItem } from './prompt-queue.js';

/**
 * The job dicts of ComfyUI's jobs API (comfy_execution/jobs.py: normalize_queue_item,
 * normalize_history_item), as far as comfywire and its tests read them: id, status, priority,
 * create_time, execution times, execution_error, outputs_count; the detail view adds outputs,
 * execution_status and workflow. Keys whose value is None are left out (prune_dict).
 */
export const JOB_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type JobDict = Record<string, unknown> & { id: string; status: JobStatus };

function pruned(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && v !== null));
}

function createTime(extraData: Record<string, unknown>): unknown {
  return extraData['create_time'];
}

export function queuedJob(item: QueueItem, status: 'pending' | 'in_progress', detail = false): JobDict {
  const job = pruned({ id: item.promptId, status, priority: item.number, create_time: createTime(item.extraData), outputs_count: 0, previewable_outputs_count: 0 });
  if (detail) job['workflow'] = { prompt: item.prompt, extra_data: item.extraData };
  return job as JobDict;
}

const PREVIEWABLE = new Set(['images', 'video', 'audio', '3d', 'text']);

/** Files among a node's outputs (objects in its lists; 'animated' is a flag), and the previewable ones by key. */
function outputsCount(outputs: HistoryEntry['outputs']): { all: number; previewable: number } {
  const count = { all: 0, previewable: 0 };
  for (const node of Object.values(outputs)) {
    for (const [key, items] of Object.entries(node)) {
      if (key === 'animated' || !Array.isArray(items)) continue;
      const files = items.filter((i) => i !== null && typeof i === 'object').length;
      count.all += files;
      if (PREVIEWABLE.has(key)) count.previewable += files;
    }
  }
  return count;
}

export function historyJob(promptId: string, entry: HistoryEntry, detail = false): JobDict {
  const [priority, , prompt, extraData] = entry.prompt;
  let start: unknown;
  let end: unknown;
  let error: unknown;
  let interrupted = false;
  for (const [name, data] of entry.status.messages) {
    if (name === 'execution_start') start = data['timestamp'];
    if (name === 'execution_success' || name === 'execution_error' || name === 'execution_interrupted') end = data['timestamp'];
    if (name === 'execution_error') error = data;
    if (name === 'execution_interrupted') interrupted = true;
  }
  // status_str 'error' with an interrupt is 'cancelled'; anything but 'error' reads as completed.
  const status: JobStatus = entry.status.status_str === 'error' ? (interrupted ? 'cancelled' : 'failed') : 'completed';
  const count = outputsCount(entry.outputs);
  const job = pruned({
    id: promptId, status, priority, create_time: createTime(extraData), execution_start_time: start, execution_end_time: end,
    execution_error: error, outputs_count: count.all, previewable_outputs_count: count.previewable,
  });
  if (detail) Object.assign(job, { outputs: entry.outputs, execution_status: entry.status, workflow: { prompt, extra_data: extraData } });
  return job as JobDict;
}
