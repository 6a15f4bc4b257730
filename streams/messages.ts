import { safeParse } from '../src/safe-parse.js';
import { z } from 'zod';

/**
 * ComfyUI's WebSocket text messages, `{type, data}`, named after ComfyUI's own message names.
 * Field shapes follow ComfyUI 0.3.64 (see test/fixtures/transcripts). Schemas are lenient about
 * extra fields (`looseObject`) because custom nodes and newer servers add them; they are strict
 * only about what the engine relies on.
 */

const NodeId = z.string();
const PromptId = z.string();

/** A file reference inside a node's UI output: anything with filename + type. */
export const FileRefSchema = z.looseObject({
  filename: z.string(),
  subfolder: z.string().default(''),
  type: z.string(),
});
export type FileRef = z.infer<typeof FileRefSchema>;

/** A node's UI output: keys chosen by the node, values are arrays (images, audio, text, gifs...). */
export const NodeOutputSchema = z.record(z.string(), z.array(z.unknown()));
export type NodeOutput = z.infer<typeof NodeOutputSchema>;

export const StatusDataSchema = z.looseObject({
  status: z.looseObject({ exec_info: z.looseObject({ queue_remaining: z.number() }) }),
  sid: z.string().optional(),
});

export const ExecutionStartDataSchema = z.looseObject({ prompt_id: PromptId, timestamp: z.number().optional() });
export const ExecutionCachedDataSchema = z.looseObject({
  nodes: z.array(NodeId),
  prompt_id: PromptId,
  timestamp: z.number().optional(),
});
/** `node: null` with a prompt_id is the end of a run; without prompt_id it is the reconnect hint. */
export const ExecutingDataSchema = z.looseObject({
  node: NodeId.nullable(),
  display_node: NodeId.optional(),
  prompt_id: PromptId.optional(),
});
export const ProgressDataSchema = z.looseObject({
  value: z.number(),
  max: z.number(),
  prompt_id: PromptId.optional(),
  node: NodeId.nullable().optional(),
});
export const NodeProgressSchema = z.looseObject({
  value: z.number(),
  max: z.number(),
  state: z.string(),
  node_id: NodeId,
  prompt_id: PromptId.optional(),
  display_node_id: NodeId.nullable().optional(),
  parent_node_id: NodeId.nullable().optional(),
  real_node_id: NodeId.nullable().optional(),
});
export type NodeProgress = z.infer<typeof NodeProgressSchema>;
export const ProgressStateDataSchema = z.looseObject({
  prompt_id: PromptId,
  nodes: z.record(NodeId, NodeProgressSchema),
});
export const ExecutedDataSchema = z.looseObject({
  node: NodeId,
  display_node: NodeId.optional(),
  output: NodeOutputSchema.nullable(),
  prompt_id: PromptId,
});
export const ExecutionSuccessDataSchema = z.looseObject({ prompt_id: PromptId, timestamp: z.number().optional() });
export const ExecutionErrorDataSchema = z.looseObject({
  prompt_id: PromptId,
  node_id: NodeId,
  node_type: z.string(),
  executed: z.array(NodeId).default([]),
  exception_message: z.string(),
  exception_type: z.string(),
  traceback: z.array(z.string()).default([]),
  current_inputs: z.unknown().optional(),
  current_outputs: z.unknown().optional(),
  timestamp: z.number().optional(),
});
export const ExecutionInterruptedDataSchema = z.looseObject({
  prompt_id: PromptId,
  node_id: NodeId,
  node_type: z.string(),
  executed: z.array(NodeId).default([]),
  timestamp: z.number().optional(),
});
export const FeatureFlagsDataSchema = z.record(z.string(), z.unknown());

export type StatusData = z.infer<typeof StatusDataSchema>;
export type ExecutionStartData = z.infer<typeof ExecutionStartDataSchema>;
export type ExecutionCachedData = z.infer<typeof ExecutionCachedDataSchema>;
export type ExecutingData = z.infer<typeof ExecutingDataSchema>;
export type ProgressData = z.infer<typeof ProgressDataSchema>;
export type ProgressStateData = z.infer<typeof ProgressStateDataSchema>;
export type ExecutedData = z.infer<typeof ExecutedDataSchema>;
export type ExecutionSuccessData = z.infer<typeof ExecutionSuccessDataSchema>;
export type ExecutionErrorData = z.infer<typeof ExecutionErrorDataSchema>;
export type ExecutionInterruptedData = z.infer<typeof ExecutionInterruptedDataSchema>;

/** Schemas of every message type the engine understands, keyed by ComfyUI's type name. */
export const KnownMessageSchemas = {
  status: StatusDataSchema,
  execution_start: ExecutionStartDataSchema,
  execution_cached: ExecutionCachedDataSchema,
  executing: ExecutingDataSchema,
  progress: ProgressDataSchema,
  progress_state: ProgressStateDataSchema,
  executed: ExecutedDataSchema,
  execution_success: ExecutionSuccessDataSchema,
  execution_error: ExecutionErrorDataSchema,
  execution_interrupted: ExecutionInterruptedDataSchema,
  feature_flags: FeatureFlagsDataSchema,
} as const;

export type KnownMessageType = keyof typeof KnownMessageSchemas;

/**
 * Everything that can come off the socket, as one discriminated union (`type`).
 * Binary frames become `preview` / `text` events; unknown text types pass through as `unknown`.
 */
export type ComfyEvent =
  | { type: 'status'; data: StatusData }
  | { type: 'execution_start'; data: ExecutionStartData }
  | { type: 'execution_cached'; data: ExecutionCachedData }
  | { type: 'executing'; data: ExecutingData }
  | { type: 'progress'; data: ProgressData }
  | { type: 'progress_state'; data: ProgressStateData }
  | { type: 'executed'; data: ExecutedData }
  | { type: 'execution_success'; data: ExecutionSuccessData }
  | { type: 'execution_error'; data: ExecutionErrorData }
  | { type: 'execution_interrupted'; data: ExecutionInterruptedData }
  | { type: 'feature_flags'; data: Record<string, unknown> }
  | { type: 'preview'; data: PreviewFrame }
  | { type: 'progress_text'; data: ProgressTextFrame }
  | { type: 'unknown'; data: { type: string; data: unknown } };

export type ComfyEventType = ComfyEvent['type'];
export type EventOf<T extends ComfyEventType> = Extract<ComfyEvent, { type: T }>;

/** A decoded binary preview (type 1 or type 4 frame). */
export interface PreviewFrame {
  /** 1 = PREVIEW_IMAGE, 4 = PREVIEW_IMAGE_WITH_METADATA */
  frameType: 1 | 4;
  mimeType: string;
  image: Uint8Array;
  /** Present on type-4 frames only; type-1 frames carry no attribution. */
  promptId?: string;
  nodeId?: string;
  displayNodeId?: string;
  parentNodeId?: string | null;
  realNodeId?: string;
}

/** A decoded binary TEXT frame (type 3): progress text shown on a node. */
export interface ProgressTextFrame {
  nodeId: string;
  text: string;
}

/** The prompt id an event belongs to, or undefined for process-wide events (status, type-1 previews). */
export function promptIdOf(event: ComfyEvent): string | undefined {
  switch (event.type) {
    case 'status':
    case 'feature_flags':
    case 'progress_text':
    case 'unknown':
      return undefined;
    case 'preview':
      return event.data.promptId;
    default:
      return event.data.prompt_id;
  }
}

/** The node an event is about (the display node where ComfyUI gives one), if any. */
export function nodeIdOf(event: ComfyEvent): string | undefined {
  switch (event.type) {
    case 'executing':
      return event.data.display_node ?? event.data.node ?? undefined;
    case 'progress':
      return event.data.node ?? undefined;
    case 'executed':
      return event.data.display_node ?? event.data.node;
    case 'execution_error':
    case 'execution_interrupted':
      return event.data.node_id;
    default:
      return undefined;
  }
}

/**
 * The last message of a run: `executing {node: null, prompt_id}`. ComfyUI writes the history entry
 * before it queues this message, so it is the "finished, history readable" signal; a per-prompt
 * stream completes here. (The bare `executing {node}` without prompt_id sent on reconnect is not it.)
 */
export function isEndOfRun(event: ComfyEvent): boolean {
  return event.type === 'executing' && event.data.node === null && event.data.prompt_id !== undefined;
}

export type MessageCheck = { event: ComfyEvent } | { issues: string[] };

/** How many schema issues of a rejected message are kept for the log. */
const MAX_REPORTED_ISSUES = 5;

/**
 * Validate one `{type, data}` message into a ComfyEvent. Unknown types pass through as `unknown`
 * (custom nodes send their own); a known type whose data does not fit its schema yields the issues.
 */
export function checkMessage(type: string, data: unknown): MessageCheck {
  if (!Object.hasOwn(KnownMessageSchemas, type)) return { event: { type: 'unknown', data: { type, data } } };
  const parsed = safeParse(KnownMessageSchemas[type as KnownMessageType], data);
  if (!parsed.success) {
    return {
      issues: parsed.error.issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`),
    };
  }
  // The schema was chosen by `type`, so the pair is consistent; TypeScript cannot correlate them.
  return { event: { type, data: parsed.data } as ComfyEvent };
}

/** checkMessage without the reasons: undefined when the data does not fit. */
export function parseMessage(type: string, data: unknown): ComfyEvent | undefined {
  const checked = checkMessage(type, data);
  return 'event' in checked ? checked.event : undefined;
}
