import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { registerJobResources } from './jobs.js';
import { registerOutputResources } from './outputs.js';
import { ResourceSubscriptions } from './subscriptions.js';
import { registerWorkflowResources } from './workflows.js';

export interface ResourcesHandle {
  subscriptions: ResourceSubscriptions;
  /** Ends every subscription; idempotent. Also runs when the session closes or `closing` aborts. */
  cleanup(): void;
}

/**
 * Templates, output files and job states as MCP resources, with subscriptions on job states.
 * Call before connecting: it declares the `subscribe` capability.
 */
export function registerResources(server: McpServer, deps: McpDeps & { closing?: AbortSignal }): ResourcesHandle {
  registerWorkflowResources(server, deps);
  registerOutputResources(server, deps);
  registerJobResources(server, deps);
  const subscriptions = new ResourceSubscriptions(server, deps);
  subscriptions.install();

  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    subscriptions.close();
  };
  // Tie the subscriptions to the session's life, so one line in createServer is all it takes.
  deps.closing?.addEventListener('abort', cleanup, { once: true });
  const previous = server.server.onclose;
  server.server.onclose = () => {
    cleanup();
    previous?.();
  };
  return { subscriptions, cleanup };
}
