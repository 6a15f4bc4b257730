import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { JobState } from '../../../streams/job-state.js';
import type { CancelOutcome } from '../../engine.js';
import type { Logger } from '../../logger.js';
import type { ProbeOptions } from '../../media/probe.js';
import { outputPreviews } from '../output-previews.js';
import { filesText, outputsUnknownText } from '../job-text.js';
import type { JobView } from '../job-view.js';
import { MissingFileSchema, OutputFileSchema } from '../outputs.js';

/** What generate_image returns: the finished job with its files, or a handle to follow it. */

const MAX_INLINE_TEXT_FILE = 4000;

export const GenerateOutputSchema = {
  prompt_id: z.string(),
  status: z.enum(['queued', 'running', 'success', 'error', 'interrupted', 'cancelled', 'lost']),
  workflow: z.string(),
  seed: z.number().optional().describe('Seed used (drawn at random when none was given)'),
  duration_ms: z.number().optional(),
  progress: z.number().describe('Overall fraction 0..1'),
  queue_position: z.number().optional(),
  files: z.array(OutputFileSchema).describe('Downloaded outputs, full size, on this machine'),
  missing_files: z.array(MissingFileSchema),
  texts: z.array(z.string()).describe('Text outputs of the workflow'),
  notes: z.array(z.string()).describe('What comfywire changed or did on the way (substitutions, uploads)'),
  cancel_outcome: z.enum(['interrupted', 'dequeued', 'already_finished', 'unknown']).optional(),
  follow_up: z.string().optional().describe('How to follow a job that is still running'),
  host: z.string().optional().describe('The ComfyUI host that ran it (when there are several)'),
  dispatch: z.string().optional().describe('Why it went to that host'),
};
export type GenerateOutput = z.infer<z.ZodObject<typeof GenerateOutputSchema>>;

export interface GenerateFacts {
  workflow: string;
  seed?: number | undefined;
  notes: string[];
  /** Several hosts: the result names the job's host and why it went there. */
  showHost?: boolean;
}

/** "on gpu-2 (sent to gpu-2: ...)", with several hosts; empty otherwise. */
function onHost(state: JobState, facts: GenerateFacts): string {
  if (!facts.showHost || state.host === undefined) return '';
  return ` on ${state.host}${state.dispatch ? ` (${state.dispatch})` : ''}`;
}

function base(state: JobState, facts: GenerateFacts, view?: JobView): GenerateOutput {
  const out: GenerateOutput = {
    prompt_id: state.promptId,
    status: state.status,
    workflow: facts.workflow,
    progress: state.fraction,
    files: view?.files ?? [],
    missing_files: view?.missing_files ?? [],
    texts: state.texts,
    notes: facts.notes,
  };
  if (facts.seed !== undefined) out.seed = facts.seed;
  if (state.endedAt !== undefined) out.duration_ms = state.endedAt - state.submittedAt;
  if (state.status === 'queued' && state.queuePosition !== undefined) out.queue_position = state.queuePosition;
  if (facts.showHost && state.host !== undefined) {
    out.host = state.host;
    if (state.dispatch !== undefined) out.dispatch = state.dispatch;
  }
  return out;
}

/** Still queued or running: not an error, a handle with the next step spelled out. */
export function handleResult(state: JobState, facts: GenerateFacts, why: string): CallToolResult {
  const follow = `Call get_workflow_status with prompt_id "${state.promptId}" to follow it (its files are downloaded when it finishes), or cancel_job to stop it.`;
  const where =
    state.status === 'queued'
      ? `queued${state.queuePosition !== undefined ? ` with ${state.queuePosition} ahead` : ''}`
      : `${state.status}, ${Math.floor(state.fraction * 100)}% done`;
  const seed = facts.seed !== undefined ? ` Seed ${facts.seed}.` : '';
  const text = [`Job ${state.promptId} (workflow ${facts.workflow}) is ${where}${onHost(state, facts)}. ${why}${seed}`, follow, ...facts.notes].join('\n');
  return { content: [{ type: 'text', text }], structuredContent: { ...base(state, facts), follow_up: follow } };
}

export async function successResult(state: JobState, view: JobView, facts: GenerateFacts, logger: Logger, media: ProbeOptions = {}): Promise<CallToolResult> {
  const out = base(state, facts, view);
  const seconds = out.duration_ms !== undefined ? `${(out.duration_ms / 1000).toFixed(1)} s` : 'unknown time';
  const lines = [
    `Generated with workflow ${facts.workflow}${onHost(state, facts)} in ${seconds}: prompt_id ${state.promptId}${facts.seed !== undefined ? `, seed ${facts.seed}` : ''}.`,
  ];
  if (view.files.length + view.missing_files.length) lines.push('Files (full size):', ...filesText(view));
  else if (view.outputs_unknown) lines.push(outputsUnknownText(state.promptId, view.outputs_unknown));
  else lines.push('The workflow produced no files.');
  if (state.texts.length) lines.push('Text outputs:', ...state.texts.map((t) => `> ${t}`));
  lines.push(...facts.notes);

  const previews = await outputPreviews(view.files, { ffmpeg: media.ffmpeg, logger });
  const content: CallToolResult['content'] = [...previews.content];
  for (const file of view.files) {
    if (file.kind !== 'text' || file.bytes > MAX_INLINE_TEXT_FILE) continue;
    const body = await readFile(file.path, 'utf8').catch(() => undefined);
    if (body !== undefined) lines.push(`Contents of ${file.filename}:\n${body}`);
  }
  lines.push(...previews.lines);
  for (const file of view.files) {
    content.push({ type: 'resource_link', uri: file.uri, name: file.filename, mimeType: file.mime, description: file.path });
  }
  return { content: [{ type: 'text', text: lines.join('\n') }, ...content], structuredContent: out };
}

/**
 * A job that ended without success: an isError result whose text says what happened and what to
 * do; the structured facts (prompt_id, status) are there as for a success, for programs and the
 * call log.
 */
export function endedResult(state: JobState, view: JobView, facts: GenerateFacts, text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true, structuredContent: base(state, facts, view) };
}

/** The text a cancelled call ends with; the client may never read it, the log does. */
export function cancelledResult(state: JobState, facts: GenerateFacts, outcome: CancelOutcome): CallToolResult {
  const what: Record<CancelOutcome, string> = {
    interrupted: 'was running and has been interrupted',
    dequeued: 'was still queued and has been removed from the queue',
    already_finished: 'had already finished when the cancellation arrived',
    unknown: 'could not be found in ComfyUI any more',
  };
  const text = `Request cancelled: job ${state.promptId} ${what[outcome]}.`;
  return { content: [{ type: 'text', text }], structuredContent: { ...base(state, facts), cancel_outcome: outcome } };
}
