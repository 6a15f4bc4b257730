import type { HistoryLike } from './job-facts.js';
import type { JobInfo } from '../src/comfy/schemas.js';
import { historyFromJob } from '../src/comfy/job-history.js';

/**
 * Where ComfyUI has a prompt: waiting (with how many ahead), running, in history, or nowhere.
 * `/queue` first, `/history` second: ComfyUI moves a prompt from running to history under one
 * lock (execution.py, PromptQueue.task_done), so this order cannot miss one that finishes in
 * between. "Nowhere" is still only a first impression: a prompt queued after the /queue answer
 * was made, or a server (a fork, a proxy) that writes history after the prompt left the queue,
 * shows the same. `confirmGone` looks again after a pause before anyone calls a prompt gone.
 * On a server with the jobs API (docs/comfyui-api-generations.md), a prompt not in /queue is looked
 * up with GET /api/jobs/{id} instead of /history/{id}: one answer for finished (with the history
 * entry's outputs and status), still queued or running, or unknown (404). One /queue read still
 * serves every prompt in it, so a queue refresh costs what it did.
 */

export interface WhereClient {
  getQueue(): Promise<{ running: Array<{ promptId: string }>; pending: Array<{ promptId: string }> }>;
  getHistory(promptId: string): Promise<HistoryLike | undefined>;
  /** Today's ComfyUI only (absent or false: the 0.3.64 way above). */
  hasJobsApi?(): Promise<boolean>;
  getJob?(promptId: string): Promise<JobInfo | undefined>;
}

export type Whereabouts =
  | { where: 'pending'; ahead: number }
  | { where: 'running' }
  | { where: 'history'; entry: HistoryLike }
  | { where: 'nowhere' };

/** The pause before a prompt found nowhere is looked for again. */
export const GONE_RECHECK_MS = 1_000;

/** Where each prompt is, from one /queue answer and one /history read per prompt not in it. */
export async function whereAre(client: WhereClient, ids: readonly string[]): Promise<Map<string, Whereabouts>> {
  const out = new Map<string, Whereabouts>();
  if (ids.length === 0) return out;
  const queue = await client.getQueue();
  const running = new Set(queue.running.map((item) => item.promptId));
  const pending = queue.pending.map((item) => item.promptId);
  let jobsApi: boolean | undefined;
  for (const id of ids) {
    if (running.has(id)) {
      out.set(id, { where: 'running' });
      continue;
    }
    const index = pending.indexOf(id);
    if (index >= 0) {
      out.set(id, { where: 'pending', ahead: running.size + index });
      continue;
    }
    jobsApi ??= client.getJob !== undefined && ((await client.hasJobsApi?.()) ?? false);
    if (jobsApi) {
      out.set(id, await whereByJob(client, id, running.size + pending.length));
      continue;
    }
    const entry = await client.getHistory(id);
    out.set(id, entry ? { where: 'history', entry } : { where: 'nowhere' });
  }
  return out;
}

/** A prompt not in the /queue answer, by GET /api/jobs/{id}: finished, unknown, or queued since. */
async function whereByJob(client: WhereClient, id: string, queueLength: number): Promise<Whereabouts> {
  const job = await client.getJob!(id);
  if (!job) return { where: 'nowhere' };
  if (job.status === 'in_progress') return { where: 'running' };
  // Queued after the /queue answer was made: behind everything that answer listed.
  if (job.status === 'pending') return { where: 'pending', ahead: queueLength };
  const entry = historyFromJob(job);
  return entry ? { where: 'history', entry } : { where: 'nowhere' };
}

/**
 * The prompts found nowhere, looked for again after `delayMs` (global timers: a test clock moves
 * it): those still nowhere are gone; the others say where they turned up.
 */
export async function confirmGone(
  client: WhereClient,
  ids: readonly string[],
  delayMs = GONE_RECHECK_MS,
): Promise<Map<string, Whereabouts>> {
  if (ids.length === 0) return new Map();
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return whereAre(client, ids);
}
