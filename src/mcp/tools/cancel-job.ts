import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { JobNotFoundError } from '../../errors.js';
import { identifierField, PROMPT_ID } from '../../input-policy/index.js';
import type { CancelOutcome } from '../../engine.js';
import type { ToolContext } from '../deps.js';
import { failure, errorText, guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';

export const CANCEL_JOB = 'cancel_job';

const inputSchema = {
  prompt_id: identifierField('prompt_id', PROMPT_ID).describe('The prompt_id returned by generate_image (or listed by get_queue)'),
};

const outputSchema = {
  prompt_id: z.string(),
  outcome: z
    .enum(['interrupted', 'dequeued', 'already_finished'])
    .describe('interrupted: it was running and was stopped; dequeued: it was waiting and was removed; already_finished: nothing to cancel'),
};

const config = {
  title: 'Cancel job',
  description:
    'Stop a ComfyUI job: interrupts it if it is running, removes it from the queue if it is still waiting. ' +
    'Works for any prompt_id in the queue, not only ones this server submitted.',
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
};

export const CANCEL_TEXT: Record<Exclude<CancelOutcome, 'unknown'>, string> = {
  interrupted: 'was running and has been interrupted; ComfyUI stops it at the next step',
  dequeued: 'was waiting in the queue and has been removed; it will not run',
  already_finished: 'had already finished; nothing to cancel (get_workflow_status shows its result)',
};

export function registerCancelJobTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(CANCEL_JOB, config, async ({ prompt_id }) =>
    guarded(ctx, CANCEL_JOB, async () => {
      const outcome = await ctx.engine.cancel(prompt_id);
      if (outcome === 'unknown') return failure(errorText(new JobNotFoundError(prompt_id)));
      ctx.logger.info(`cancel_job ${prompt_id}: ${outcome}`);
      return okResult(`Job ${prompt_id} ${CANCEL_TEXT[outcome]}.`, { prompt_id, outcome });
    }, toolCall(ctx, { prompt_id })),
  );
}
