import { parseMessage, type ComfyEvent, type NodeOutput } from './messages.js';
import { reduceJob, withOutput, type JobState, type PromptContext } from './job-state.js';

/**
 * What a `/history/{id}` entry says about a finished prompt, folded into a job's state. Used when
 * the socket missed the end of a run (reconnect, or a terminal frame without outputs): history is
 * the authoritative record, and it includes cached output nodes.
 */
export interface HistoryLike {
  outputs?: Record<string, NodeOutput>;
  status?: {
    status_str?: string;
    completed?: boolean;
    messages?: Array<[string, Record<string, unknown>]>;
  };
}

export function applyHistory(state: JobState, entry: HistoryLike, ctx: PromptContext, now: number): JobState {
  let next = state;
  for (const [nodeId, output] of Object.entries(entry.outputs ?? {})) {
    if (!(nodeId in next.outputs)) next = withOutput(next, nodeId, output);
  }
  // The status messages are the same payloads as the WS messages: replay them through the reducer
  // so an outcome read from history looks exactly like one seen live.
  for (const [type, data] of entry.status?.messages ?? []) {
    const event: ComfyEvent | undefined = parseMessage(type, data);
    if (event) next = reduceJob(next, event, ctx, now);
  }
  if (next.status === 'queued' || next.status === 'running') {
    // History without a terminal message: trust status_str.
    if (entry.status?.status_str === 'success') next = { ...next, status: 'success', fraction: 1, endedAt: now };
    else if (entry.status?.status_str === 'error')
      next = { ...next, status: 'error', endedAt: now, lostReason: 'ComfyUI recorded the run as failed without details.' };
  }
  return { ...next, settled: true };
}
