import type { ComfyClient } from '../comfy/client.js';
import type { ApiPrompt } from '../comfy/types.js';
import { withFilesOnDisk } from '../jobs/output-folder.js';
import { history, queuePosition, seenRunning, settled } from '../../streams/job-facts.js';
import { initialJobState, promptContext, reduceJob, type JobState, type PromptContext } from '../../streams/job-state.js';

/**
 * A prompt this process did not submit, as ComfyUI knows it: waiting or running in /queue, or
 * finished in /history. History replays through the same reducer as live events, so the view
 * (and the failure diagnosis) is the same as for our own jobs. Given the output folder, outputs
 * already in it (an earlier or another comfywire process downloaded them) count as downloaded.
 */
const NO_OUTCOME = "ComfyUI's history entry for this prompt does not say how it ended.";

export async function foreignJob(
  client: Pick<ComfyClient, 'getQueue' | 'getHistory'>,
  promptId: string,
  outputDir?: string,
): Promise<{ state: JobState; context: PromptContext } | undefined> {
  const queue = await client.getQueue();
  const running = queue.running.find((i) => i.promptId === promptId);
  const pendingIndex = queue.pending.findIndex((i) => i.promptId === promptId);
  const now = Date.now();
  if (running) {
    // Another client's socket gets its progress; we only know that it runs.
    const context = promptContext(running.prompt);
    return { state: reduceJob(initialJobState(promptId, now), seenRunning, context, now), context };
  }
  const pending = queue.pending[pendingIndex];
  if (pending) {
    const context = promptContext(pending.prompt);
    return { state: reduceJob(initialJobState(promptId, now), queuePosition(queue.running.length + pendingIndex), context, now), context };
  }
  const entry = await client.getHistory(promptId);
  if (!entry) return undefined;
  const prompt = entry.prompt[2];
  const context = promptContext(prompt && typeof prompt === 'object' ? (prompt as ApiPrompt) : undefined);
  // History messages carry ComfyUI's own timestamps (ms): use them for start and end.
  const stamps = entry.status.messages
    .map(([, data]) => data['timestamp'])
    .filter((t): t is number => typeof t === 'number');
  const start = stamps.length ? Math.min(...stamps) : now;
  const end = stamps.length ? Math.max(...stamps) : now;
  // It ran from ComfyUI's first timestamp to its last: the facts are folded at those times.
  let state = reduceJob(initialJobState(promptId, start), seenRunning, context, start);
  for (const fact of [history(entry), settled(NO_OUTCOME)]) state = reduceJob(state, fact, context, end);
  if (outputDir !== undefined) state = await withFilesOnDisk(state, outputDir);
  return { state, context };
}
