import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolContext } from '../deps.js';
import { QueueViewSchema, queueText, readQueue } from '../queue-view.js';
import { guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';

export const GET_QUEUE = 'get_queue';

const config = {
  title: 'Get queue',
  description:
    "Show ComfyUI's queue: the running prompt and the pending ones in execution order, with the jobs this server submitted marked as ours. " +
    'With several ComfyUI hosts: each host\'s queue (up or down) and the total. Use cancel_job with a prompt_id to stop or remove one.',
  inputSchema: {},
  outputSchema: QueueViewSchema.shape,
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export function registerGetQueueTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(GET_QUEUE, config, async () =>
    guarded(ctx, GET_QUEUE, async () => {
      const view = await readQueue(ctx);
      return okResult(queueText(view), view);
    }, toolCall(ctx, {})),
  );
}
