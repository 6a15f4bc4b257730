import type { ComfyClient, HistoryEntry, JobInfo } from '../comfy/client.js';
import { historyFromJob } from '../comfy/job-history.js';
import type { ApiPrompt } from '../comfy/types.js';
import type { ComfyEngine, EngineHost } from '../engine-api.js';
import { ComfyUnreachableError } from '../errors.js';
import { askEveryHost } from './host-reads.js';
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

type ForeignClient = Pick<ComfyClient, 'getQueue' | 'getHistory'> & Partial<Pick<ComfyClient, 'hasJobsApi' | 'getJob'>>;

export async function foreignJob(
  client: ForeignClient,
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
  if (client.getJob && (await client.hasJobsApi?.())) {
    const job = await client.getJob(promptId);
    return job && fromJob(job, queue.running.length + queue.pending.length, now, outputDir);
  }
  const entry = await client.getHistory(promptId);
  return entry && fromHistory(promptId, entry, now, outputDir);
}

/**
 * Today's ComfyUI (GET /api/jobs/{id}, asked for a prompt not in /queue): finished, with the
 * history entry's outputs and status, or queued or started since the /queue answer was made.
 */
async function fromJob(job: JobInfo, queueLength: number, now: number, outputDir: string | undefined): Promise<{ state: JobState; context: PromptContext } | undefined> {
  const prompt = job.workflow?.prompt;
  const context = promptContext(prompt ? (prompt as ApiPrompt) : undefined);
  if (job.status === 'in_progress') return { state: reduceJob(initialJobState(job.id, now), seenRunning, context, now), context };
  if (job.status === 'pending') return { state: reduceJob(initialJobState(job.id, now), queuePosition(queueLength), context, now), context };
  const entry = historyFromJob(job);
  return entry && fromHistory(job.id, entry, now, outputDir);
}

async function fromHistory(
  promptId: string,
  entry: HistoryEntry,
  now: number,
  outputDir: string | undefined,
): Promise<{ state: JobState; context: PromptContext }> {
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

export interface ForeignFind {
  state: JobState;
  context: PromptContext;
  /** The host whose queue or history has it. */
  host: EngineHost;
}

/**
 * A prompt that is not ours, looked for on every host (another client may have sent it to any of
 * them): the first host that knows it answers. Hosts that are down are skipped; when none could
 * be asked at all, the first one's error is the answer, as with one host.
 */
export async function foreignJobOnHosts(engine: ComfyEngine, promptId: string, outputDir?: string): Promise<ForeignFind | undefined> {
  // One host: askEveryHost asks it directly, and its error is the answer.
  const answers = await askEveryHost(engine, (comfy) => foreignJob(comfy, promptId, outputDir));
  for (const a of answers) if (a.ok && a.value) return { ...a.value, host: a.host };
  if (answers.every((a) => !a.ok)) {
    throw new ComfyUnreachableError(engine.config.comfyUrl, {
      message: `No ComfyUI host could be asked about prompt ${promptId}: ${answers.map((a) => (a.ok ? '' : a.error)).join('; ')}.`,
      hint: 'get_system_stats shows each host; try again once one is back.',
    });
  }
  return undefined;
}
