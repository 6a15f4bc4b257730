import { z } from 'zod';
import { nodeRef, stepOf, type JobState, type PromptContext } from '../../streams/job-state.js';
import { diagnoseJobError, type DiagnoseDeps } from './diagnose.js';
import { MissingFileSchema, OutputFileSchema, outputFiles } from './outputs.js';
import type { JobHost } from './job-host.js';
import type { ProbeOptions } from '../media/probe.js';

/**
 * A job's state as tools report it: one structured shape (for get_workflow_status, generate_image
 * and the jobs resource) and one readable text. Failures carry the diagnosis with its hints.
 */

const NodeRefSchema = z.object({ id: z.string(), class_type: z.string().optional(), title: z.string().optional() });

export const JobErrorSchema = z.object({
  node_id: z.string(),
  class_type: z.string(),
  title: z.string().optional(),
  exception_type: z.string(),
  exception_message: z.string(),
  traceback: z.array(z.string()).describe('Last lines of the Python traceback'),
  inputs: z.record(z.string(), z.unknown()).describe('Inputs the failing node received'),
  summary: z.string(),
  hints: z.array(z.string()).describe('What to do about it'),
});

export const JobViewSchema = z.object({
  prompt_id: z.string(),
  status: z.enum(['queued', 'running', 'success', 'error', 'interrupted', 'cancelled', 'lost']),
  ours: z.boolean().describe('Submitted by this comfywire server (live state) rather than read from ComfyUI'),
  workflow: z.string().optional(),
  progress: z.number().describe('Overall fraction 0..1'),
  settled: z.boolean().describe('Final: outputs read and downloaded. A success that is not settled yet is still fetching its files'),
  queue_position: z.number().optional().describe('Prompts ahead of this one, the running one included'),
  current_node: NodeRefSchema.extend({ value: z.number().optional(), max: z.number().optional() }).optional(),
  nodes: z.array(NodeRefSchema.extend({ value: z.number(), max: z.number(), state: z.string() })),
  cached_nodes: z.number(),
  elapsed_ms: z.number().optional().describe('Since the run started (or ended)'),
  duration_ms: z.number().optional().describe('From submission to the end of the run'),
  files: z.array(OutputFileSchema),
  missing_files: z.array(MissingFileSchema),
  texts: z.array(z.string()),
  error: JobErrorSchema.optional(),
  interrupted_at: NodeRefSchema.optional(),
  lost_reason: z.string().optional(),
  outputs_unknown: z.string().optional().describe('A success whose outputs could not be determined, and why'),
  host: z.string().optional().describe('The ComfyUI host that has the job (when there are several)'),
  dispatch: z.string().optional().describe('Why the job went to that host'),
  host_state: z.string().optional().describe("The host's connection state when it is not open: the job waits on it"),
  host_note: z.string().optional().describe('What a host that is down means for this job'),
});
export type JobView = z.infer<typeof JobViewSchema>;

function ref(r: { id: string; classType?: string; title?: string }): z.infer<typeof NodeRefSchema> {
  const out: z.infer<typeof NodeRefSchema> = { id: r.id };
  if (r.classType !== undefined) out.class_type = r.classType;
  if (r.title !== undefined) out.title = r.title;
  return out;
}

export interface JobViewOptions {
  ours: boolean;
  now?: number;
  /** For prompts we did not download: ComfyUI's URL of each file. */
  /** Class types and titles of the prompt's nodes, for readable per-node progress. */
  context?: PromptContext;
  viewUrl?: (file: { filename: string; subfolder: string; type: string }) => string;
  /** With several hosts: the job's host, why it went there, and that host's state when it is down (job-host.ts). */
  host?: JobHost | undefined;
  /** How files are probed (the ffmpeg to ask about videos and non-WAV audio; none: extension and headers only). */
  media?: ProbeOptions;
}

export async function jobView(state: JobState, deps: DiagnoseDeps, options: JobViewOptions): Promise<JobView> {
  const now = options.now ?? Date.now();
  const { files, missing } = await outputFiles(state, options.media);
  const names = (id: string) => (options.context ? nodeRef(options.context, id) : { id });
  const view: JobView = {
    prompt_id: state.promptId,
    status: state.status,
    ours: options.ours,
    progress: state.fraction,
    settled: state.settled,
    nodes: Object.entries(state.nodes).map(([id, p]) => ({ ...ref(names(id)), value: p.value, max: p.max, state: p.state })),
    cached_nodes: state.cachedNodes.length,
    files,
    missing_files: options.viewUrl
      ? missing.map((m) => {
          const f = state.files.find((x) => x.nodeId === m.node_id && x.filename === m.filename);
          return f ? { ...m, url: options.viewUrl!(f) } : m;
        })
      : missing,
    texts: state.texts,
  };
  if (state.workflow !== undefined) view.workflow = state.workflow;
  if (state.status === 'queued' && state.queuePosition !== undefined) view.queue_position = state.queuePosition;
  if (state.currentNode) {
    const p = stepOf(state, state.currentNode.id);
    view.current_node = { ...ref(state.currentNode), ...(p ? { value: p.value, max: p.max } : {}) };
  }
  if (state.startedAt !== undefined) view.elapsed_ms = (state.endedAt ?? now) - state.startedAt;
  if (state.endedAt !== undefined) view.duration_ms = state.endedAt - state.submittedAt;
  if (state.error) {
    const d = await diagnoseJobError(state.error, deps);
    const e = state.error;
    view.error = {
      node_id: e.nodeId,
      class_type: e.classType,
      exception_type: e.exceptionType,
      exception_message: e.exceptionMessage,
      traceback: d.traceback,
      inputs: e.inputs && typeof e.inputs === 'object' ? (e.inputs as Record<string, unknown>) : {},
      summary: d.summary,
      hints: d.hints,
      ...(e.title !== undefined ? { title: e.title } : {}),
    };
  }
  if (state.interrupted) view.interrupted_at = ref(state.interrupted);
  if (state.lostReason !== undefined) view.lost_reason = state.lostReason;
  if (state.outputsUnknown !== undefined) view.outputs_unknown = state.outputsUnknown;
  if (options.host) {
    view.host = options.host.host;
    if (options.host.dispatch !== undefined) view.dispatch = options.host.dispatch;
    if (options.host.hostState !== undefined) view.host_state = options.host.hostState;
    if (options.host.hostNote !== undefined) view.host_note = options.host.hostNote;
  }
  return view;
}
