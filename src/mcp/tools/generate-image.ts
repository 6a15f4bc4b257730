import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { placementShape, requestShape } from '../../generation/request-schema.js';
import type { ToolContext } from '../deps.js';
import { runGeneration } from '../generate/run.js';
import { GenerateOutputSchema } from '../generate/result.js';
import { guarded } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';
import { registerTaskTool } from '../tasks/index.js';
import { sharedSchema } from '../shared-schemas.js';

export const GENERATE_IMAGE = 'generate_image';

/**
 * The request's fields come from the shared request schema, built for the configured limits, so
 * this tool and `comfywire generate` accept and refuse the same values; `wait` and `timeout_s`
 * are this tool's own.
 */
function inputSchema(ctx: ToolContext) {
  const shape = requestShape(ctx.config.limits);
  return {
    ...shape,
    ...placementShape(),
    workflow: shape.workflow.describe(`Workflow template name from list_workflows (default "${ctx.config.defaultWorkflow}")`),
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
      'get_workflow_status, stop it with cancel_job. Call list_workflows first to see a workflow\'s parameters. With several ' +
      'ComfyUI hosts comfywire picks one (the result names it and says why); host or tags narrow the choice.',
    // Built once per process: every HTTP session's server shares it (src/mcp/shared-schemas.ts).
    inputSchema: sharedSchema(GENERATE_IMAGE, ctx, () => inputSchema(ctx)),
    outputSchema: GenerateOutputSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  };
  const run = async (args: GenerateImageArgs, extra: Parameters<typeof runGeneration>[2]) =>
    guarded(ctx, GENERATE_IMAGE, () => runGeneration(ctx, args, extra), toolCall(ctx, args));
  if (ctx.tasks) {
    // Task-capable (MCP Tasks): a task waits for the job's end; tasks/cancel interrupts or dequeues it.
    registerTaskTool(server, GENERATE_IMAGE, config, {
      store: ctx.tasks.store,
      logger: ctx.logger,
      run,
      // A task has no call timeout to stay under: it waits for the job's end, however long. Its
      // TTL (the client's choice) bounds how long the outcome is kept, not the render.
      runTask: (args, extra, hooks) =>
        guarded(ctx, GENERATE_IMAGE, () => runGeneration(ctx, args, extra, { untilDone: true, ...(hooks ? { hooks } : {}) }), toolCall(ctx, args)),
    });
    return;
  }
  server.registerTool(GENERATE_IMAGE, config, run);
}
