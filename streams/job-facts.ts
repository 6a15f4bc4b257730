import type { ComfyEvent, NodeOutput } from './messages.js';
import type { DownloadedFile } from './job-state.js';

/**
 * Everything that can change a tracked job, as one union: what the socket said (ComfyEvent) and
 * what comfywire learned by other means (HTTP answers, its own decisions). `reduceJob` folds them;
 * nothing else writes a job's state, so a job's life can be replayed from a list of facts.
 */

/** A `/history/{id}` entry, as much of it as the fold reads. */
export interface HistoryLike {
  outputs?: Record<string, NodeOutput>;
  status?: {
    status_str?: string;
    completed?: boolean;
    messages?: Array<[string, Record<string, unknown>]>;
  };
}

export type JobFact =
  | ComfyEvent
  /** POST /prompt answered: ComfyUI queued it under this number. */
  | { type: 'accepted'; data: { number: number } }
  /** /queue lists it as pending with `ahead` prompts before it (the running one included). */
  | { type: 'queue_position'; data: { ahead: number } }
  /** /queue lists it as running (after a reconnect: the socket's execution_start may be lost). */
  | { type: 'seen_running' }
  /** It left ComfyUI's queue without running: taken out by our cancel, or by someone else. */
  | { type: 'dequeued'; data: { by: 'us' | 'elsewhere' } }
  /** ComfyUI's record of the finished run: authoritative, cached output nodes included. */
  | { type: 'history'; data: { entry: HistoryLike } }
  /** Nothing more will be learnt about the run (the reason says why); the outcome stays unknown. */
  | { type: 'lost'; data: { reason: string } }
  /** Outputs fetched into the output folder, and the files that failed (`<filename>: <why>`). */
  | { type: 'downloaded'; data: { files: DownloadedFile[]; errors: string[] } }
  /** A success whose outputs nobody could tell (its `executed` frames lost, /history unreadable). */
  | { type: 'outputs_unknown'; data: { reason: string } }
  /** Settling itself failed (a bug or a full disk): recorded with the download errors. */
  | { type: 'settle_failed'; data: { message: string } }
  /** The last fact: outputs are final. A job whose outcome is still unknown ends lost with `unknownOutcome`. */
  | { type: 'settled'; data: { unknownOutcome: string } };

export type JobFactType = JobFact['type'];

export const accepted = (number: number): JobFact => ({ type: 'accepted', data: { number } });
export const queuePosition = (ahead: number): JobFact => ({ type: 'queue_position', data: { ahead } });
export const seenRunning: JobFact = { type: 'seen_running' };
export const dequeued = (by: 'us' | 'elsewhere'): JobFact => ({ type: 'dequeued', data: { by } });
export const history = (entry: HistoryLike): JobFact => ({ type: 'history', data: { entry } });
export const lost = (reason: string): JobFact => ({ type: 'lost', data: { reason } });
export type DownloadedFact = Extract<JobFact, { type: 'downloaded' }>;
export const downloaded = (files: DownloadedFile[], errors: string[]): DownloadedFact => ({ type: 'downloaded', data: { files, errors } });
export const outputsUnknown = (reason: string): JobFact => ({ type: 'outputs_unknown', data: { reason } });
export const settleFailed = (err: unknown): JobFact => ({
  type: 'settle_failed',
  data: { message: String((err as Error | undefined)?.message ?? err) },
});
export const settled = (unknownOutcome: string): JobFact => ({ type: 'settled', data: { unknownOutcome } });

/** Why a job was lost, for the facts that carry no reason of their own. */
export const CHECK_LATER = 'The job may still be running in ComfyUI: check it with get_workflow_status once ComfyUI is reachable.';
export const REMOVED_FROM_QUEUE =
  "The prompt was removed from ComfyUI's queue before it ran (the queue panel of the ComfyUI window, " +
  '"clear queue", or another client), or ComfyUI restarted. Submit it again if you still want it.';
export const FAILED_WITHOUT_DETAILS = 'ComfyUI recorded the run as failed without details.';
