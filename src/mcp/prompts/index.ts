import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { registerDebugLastFailurePrompt } from './debug-last-failure.js';
import { registerExplainWorkflowPrompt } from './explain-workflow.js';
import { registerGenerateVariationsPrompt } from './generate-variations.js';

/** Prompts that show a model how to use the tools together, filled with this server's real context. */
export function registerPrompts(server: McpServer, deps: McpDeps): void {
  registerGenerateVariationsPrompt(server, deps);
  registerDebugLastFailurePrompt(server, deps);
  registerExplainWorkflowPrompt(server, deps);
}
