import { safeParse } from '../safe-parse.js';
import { z } from 'zod';
import { NodeOutputSchema } from '../../streams/messages.js';
import { ComfyBadResponseError } from '../errors.js';
import type { ApiPrompt } from './types.js';

/**
 * zod schemas for the HTTP bodies comfywire reads from ComfyUI 0.3.x (shapes taken from the
 * recordings in test/fixtures/transcripts). Objects are `looseObject` because custom nodes and
 * newer servers add keys; a schema is strict only about what the client relies on.
 */

const Extra = z.record(z.string(), z.unknown());

/** One entry of `node_errors[id].errors`. */
export const NodeErrorItemSchema = z.looseObject({
  type: z.string(),
  message: z.string().default(''),
  details: z.string().default(''),
  extra_info: Extra.default({}),
});
export type NodeErrorItem = z.infer<typeof NodeErrorItemSchema>;

export const NodeErrorEntrySchema = z.looseObject({
  errors: z.array(NodeErrorItemSchema).default([]),
  dependent_outputs: z.array(z.coerce.string()).default([]),
  class_type: z.string().optional(),
});

/** Servers before v0.3.28 sent `node_errors: []` on some rejections; read that as "none". */
export const NodeErrorsSchema = z.union([
  z.record(z.string(), NodeErrorEntrySchema),
  z.array(z.unknown()).transform(() => ({})),
]);
export type NodeErrors = z.infer<typeof NodeErrorsSchema>;

/** POST /prompt, HTTP 200. `node_errors` may be non-empty: the failing outputs were dropped. */
export const PromptAcceptedSchema = z.looseObject({
  prompt_id: z.string(),
  number: z.number(),
  node_errors: NodeErrorsSchema.default({}),
});

/** ComfyUI builds the top-level `error` of a rejection as the same dict as a node's error entry. */
const TopLevelErrorSchema = NodeErrorItemSchema;
export type TopLevelError = NodeErrorItem;

/** POST /prompt, HTTP 400. Before v0.3.28 `no_prompt` was the bare string "no prompt". */
export const PromptRejectedSchema = z.looseObject({
  error: z.union([
    TopLevelErrorSchema,
    z.string().transform(
      (text): TopLevelError => ({
        type: text === 'no prompt' ? 'no_prompt' : 'unknown',
        message: text,
        details: '',
        extra_info: {},
      }),
    ),
  ]),
  node_errors: NodeErrorsSchema.default({}),
});
export type PromptRejectedBody = z.infer<typeof PromptRejectedSchema>;

/** GET /prompt. */
export const QueueCounterSchema = z.looseObject({
  exec_info: z.looseObject({ queue_remaining: z.number() }),
});

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute]`; later servers may append more. */
export const QueueItemSchema = z
  .tuple([z.number(), z.string(), Extra, Extra, z.array(z.coerce.string())])
  .rest(z.unknown())
  .transform(([number, promptId, prompt, extraData, outputsToExecute]) => ({
    number,
    promptId,
    prompt: prompt as ApiPrompt,
    extraData,
    outputsToExecute,
  }));
export type QueueItem = z.infer<typeof QueueItemSchema>;

export const QueueSchema = z.looseObject({
  queue_running: z.array(QueueItemSchema),
  queue_pending: z.array(QueueItemSchema),
});

export const HistoryEntrySchema = z.looseObject({
  prompt: z.array(z.unknown()),
  outputs: z.record(z.string(), NodeOutputSchema).default({}),
  status: z.looseObject({
    status_str: z.string(),
    completed: z.boolean(),
    messages: z
      .array(
        z
          .tuple([z.string(), Extra])
          .rest(z.unknown())
          .transform(([type, data]): [string, Record<string, unknown>] => [type, data]),
      )
      .default([]),
  }),
  meta: Extra.optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/**
 * GET /api/jobs/{id} of today's ComfyUI (comfy_execution/jobs.py): a finished job's detail carries
 * its outputs, its history status (`execution_status`) and its prompt (`workflow`).
 */
export const JobSchema = z.looseObject({
  id: z.string(),
  status: z.enum(['pending', 'in_progress', 'completed', 'failed', 'cancelled']),
  outputs: z.record(z.string(), NodeOutputSchema).optional(),
  execution_status: z.unknown().optional(),
  workflow: z.looseObject({ prompt: Extra.optional(), extra_data: Extra.optional() }).optional(),
});
export type JobInfo = z.infer<typeof JobSchema>;

export const JobCancelSchema = z.looseObject({ cancelled: z.boolean() });

/** GET /history and GET /history/{id}: `{prompt_id: entry}`, `{}` when unknown. */
export const HistoryMapSchema = z.record(z.string(), HistoryEntrySchema);

export const SystemStatsSchema = z.looseObject({
  system: z.looseObject({
    os: z.string().optional(),
    comfyui_version: z.string().optional(),
    python_version: z.string().optional(),
    pytorch_version: z.string().optional(),
    ram_total: z.number().optional(),
    ram_free: z.number().optional(),
    argv: z.array(z.string()).optional(),
  }),
  devices: z
    .array(
      z.looseObject({
        name: z.string(),
        type: z.string(),
        index: z.number().nullable().optional(),
        vram_total: z.number().optional(),
        vram_free: z.number().optional(),
        torch_vram_total: z.number().optional(),
        torch_vram_free: z.number().optional(),
      }),
    )
    .default([]),
});
export type SystemStats = z.infer<typeof SystemStatsSchema>;

export const FeaturesSchema = Extra;

/** POST /upload/image: the key is `name`, and it can differ from the name sent. */
export const UploadReplySchema = z.looseObject({
  name: z.string(),
  subfolder: z.string().default(''),
  type: z.string(),
});

/** GET /userdata?...&full_info=true gives objects; without full_info, plain relative paths. */
export const UserdataListingSchema = z.array(
  z.union([
    z.string().transform((path) => ({ path })),
    z.looseObject({
      path: z.string(),
      size: z.number().optional(),
      modified: z.number().optional(),
      created: z.number().optional(),
    }),
  ]),
);

export const StringListSchema = z.array(z.string());

/**
 * GET /object_info: checked only as "object of objects". One broken custom node must not make
 * the whole catalogue unreadable; consumers read entries defensively.
 */
export const ObjectInfoSchema = z.record(z.string(), Extra);

const MAX_ISSUE_TEXT = 500;

/** Validate a body; a shape ComfyUI does not send becomes ComfyBadResponseError naming the route. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown, route: string): z.output<S> {
  const result = safeParse(schema, value);
  if (result.success) return result.data;
  const issues = z.prettifyError(result.error).slice(0, MAX_ISSUE_TEXT);
  throw new ComfyBadResponseError(`${route} answered a body comfywire does not understand:\n${issues}`, {
    cause: result.error,
    context: { route },
  });
}
