import type { ComfyClient } from '../comfy/client.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { applyHistory } from '../../streams/history-state.js';
import type { JobState, PromptContext } from '../../streams/job-state.js';
import { downloadOutputs } from './download-outputs.js';

/**
 * The end of a job, after its run ended (or the resync decided it did): read /history when the
 * socket left gaps, make sure no job stays "running" for ever, and download the outputs of a
 * success into <outputDir>/<prompt_id>/.
 */

/**
 * How often history is read when the end of run arrived before ComfyUI wrote the entry; the waits
 * between reads grow by the delay (0.1, 0.2, 0.3, 0.4 s: reads at 0, 0.1, 0.3, 0.6 and 1 s).
 */
export const HISTORY_RETRIES = 5;
export const HISTORY_RETRY_DELAY_MS = 100;

export interface SettleDeps {
  client: Pick<ComfyClient, 'getHistory' | 'download'>;
  outputDir: string;
  logger: Logger;
  /** False when the submitter asked for no downloads. */
  download: boolean;
}

export async function settleJob(state: JobState, ctx: PromptContext, deps: SettleDeps): Promise<JobState> {
  let next = state;
  const unsure = next.status === 'queued' || next.status === 'running';
  const noOutputs = Object.keys(next.outputs).length === 0;
  if (!next.settled && (unsure || (next.status === 'success' && noOutputs))) {
    next = await readHistory(next, ctx, deps);
  }
  if (next.status === 'queued' || next.status === 'running') {
    // The run is over but neither the socket nor history said how: do not leave it "running" for ever.
    next = {
      ...next,
      status: 'lost',
      endedAt: next.endedAt ?? Date.now(),
      queuePosition: undefined,
      lostReason:
        'ComfyUI ended the run without saying how (its outcome message was not received) and has no history entry for it ' +
        "(history cleared or ComfyUI restarted). Its outputs, if any, are in ComfyUI's output folder.",
    };
  }
  if (next.status === 'success' && deps.download && next.files.length > 0) next = await downloadOutputs(next, deps);
  return next;
}

async function readHistory(state: JobState, ctx: PromptContext, deps: SettleDeps): Promise<JobState> {
  for (let attempt = 0; attempt < HISTORY_RETRIES; attempt++) {
    try {
      const entry = await deps.client.getHistory(state.promptId);
      if (entry) return applyHistory(state, entry, ctx, Date.now());
    } catch (err) {
      deps.logger.warn(`history for ${state.promptId} unavailable: ${describeError(err)}`);
    }
    // No wait after the last read: nothing would read history after it.
    if (attempt + 1 < HISTORY_RETRIES) await new Promise((r) => setTimeout(r, HISTORY_RETRY_DELAY_MS * (attempt + 1)));
  }
  return state;
}
