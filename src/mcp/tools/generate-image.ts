import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { MAX_SAFE_SEED } from '../../workflows/parameters.js';
import type { ToolContext } from '../deps.js';
import { runGeneration } from '../generate/run.js';
import { GenerateOutputSchema } from '../generate/result.js';
import { guarded } from '../results.js';
import { registerTaskTool } from '../tasks/index.js';

export const GENERATE_IMAGE = 'generate_image';

/** Longer prompts are almost always a mistake (a pasted file); CLIP reads ~77 tokens per chunk anyway. */
export const MAX_PROMPT_CHARS = 10_000;

const text = (what: string) =>
  z
    .string()
    .max(MAX_PROMPT_CHARS, {
      error: (issue) =>
        `The ${what} is ${String((issue.input as string | undefined)?.length ?? 'too many')} characters; the limit is ${MAX_PROMPT_CHARS}. ` +
        'Shorten it to the description of the image (subject, style, lighting, composition).',
    });

function inputSchema(ctx: ToolContext) {
  return {
    workflow: z
      .string()
      .min(1)
      .optional()
      .describe(`Workflow template name from list_workflows (default "${ctx.config.defaultWorkflow}")`),
    prompt: text('prompt').optional().describe('What to generate: the positive text prompt'),
    negative_prompt: text('negative prompt').optional().describe('What to avoid: the negative text prompt'),
    seed: z.number().int().min(0).max(MAX_SAFE_SEED).optional().describe('Random seed; omitted = drawn at random and reported'),
    steps: z.number().int().min(1).max(10_000).optional().describe('Sampling steps (e.g. 20-30; more is slower)'),
    cfg: z.number().min(0).max(100).optional().describe('Classifier-free guidance scale (e.g. 7 for SD 1.5)'),
    width: z.number().int().min(16).max(16_384).optional().describe('Image width in pixels (a multiple of 8)'),
    height: z.number().int().min(16).max(16_384).optional().describe('Image height in pixels (a multiple of 8)'),
    batch_size: z.number().int().min(1).max(64).optional().describe('Images per run'),
    sampler: z.string().min(1).optional().describe('Sampler name, e.g. euler, dpmpp_2m (list_workflows shows the choices)'),
    scheduler: z.string().min(1).optional().describe('Scheduler name, e.g. normal, karras'),
    checkpoint: z.string().min(1).optional().describe('Checkpoint file name as list_models folder="checkpoints" shows it'),
    denoise: z.number().min(0).max(1).optional().describe('Denoising strength 0..1 (below 1 keeps more of input_image)'),
    input_image: z
      .string()
      .min(1)
      .optional()
      .describe("Local image file for img2img workflows; uploaded to ComfyUI first (allowed folders as for upload_image)"),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Values for other parameters the workflow declares, by name (list_workflows shows them)'),
    wait: z
      .boolean()
      .default(true)
      .describe('Wait for the result (up to timeout_s). false = return the prompt_id at once and follow with get_workflow_status'),
    timeout_s: z
      .number()
      .positive()
      .max(3600)
      .optional()
      .describe(`How long to wait before returning a handle instead (default ${ctx.config.toolWaitS}); the job keeps running`),
  };
}

export type GenerateImageArgs = z.infer<z.ZodObject<ReturnType<typeof inputSchema>>>;

export function registerGenerateImageTool(server: McpServer, ctx: ToolContext): void {
  const config = {
    title: 'Generate image',
    description:
      'Render a workflow template on ComfyUI with the given prompt and settings, and return the result: the file paths on ' +
      'disk, downscaled previews inline, the seed used. Sends progress notifications when given a progress token. A render ' +
      `longer than timeout_s (default ${ctx.config.toolWaitS} s) returns a prompt_id handle instead; follow it with ` +
      'get_workflow_status, stop it with cancel_job. Call list_workflows first to see a workflow\'s parameters.',
    inputSchema: inputSchema(ctx),
    outputSchema: GenerateOutputSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  };
  const run = async (args: GenerateImageArgs, extra: Parameters<typeof runGeneration>[2]) =>
    guarded(ctx.logger, GENERATE_IMAGE, () => runGeneration(ctx, args, extra));
  if (ctx.tasks) {
    // Task-capable (MCP Tasks): a task waits for the job's end; tasks/cancel interrupts or dequeues it.
    registerTaskTool(server, GENERATE_IMAGE, config, {
      store: ctx.tasks.store,
      logger: ctx.logger,
      run,
      // A task has no call timeout to stay under: it waits for the job's end, however long. Its
      // TTL (the client's choice) bounds how long the outcome is kept, not the render.
      runTask: (args, extra, hooks) =>
        guarded(ctx.logger, GENERATE_IMAGE, () => runGeneration(ctx, args, extra, { untilDone: true, ...(hooks ? { hooks } : {}) })),
    });
    return;
  }
  server.registerTool(GENERATE_IMAGE, config, run);
}
