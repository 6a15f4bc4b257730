import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolContext } from '../deps.js';
import { registerCancelJobTool } from './cancel-job.js';
import { registerGenerateImageTool } from './generate-image.js';
import { registerGetQueueTool } from './get-queue.js';
import { registerGetSystemStatsTool } from './get-system-stats.js';
import { registerGetWorkflowStatusTool } from './get-workflow-status.js';
import { registerListModelsTool } from './list-models.js';
import { registerListWorkflowsTool } from './list-workflows.js';
import { registerUploadImageTool } from './upload-image.js';
import { registerUploadWorkflowTool } from './upload-workflow.js';

/** Every tool, in the order a model meets them in tools/list. */
export function registerTools(server: McpServer, ctx: ToolContext): void {
  registerListWorkflowsTool(server, ctx);
  registerGenerateImageTool(server, ctx);
  registerGetWorkflowStatusTool(server, ctx);
  registerCancelJobTool(server, ctx);
  registerGetQueueTool(server, ctx);
  registerListModelsTool(server, ctx);
  registerGetSystemStatsTool(server, ctx);
  registerUploadImageTool(server, ctx);
  registerUploadWorkflowTool(server, ctx);
}
