import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { prepareGeneration } from '../generation/prepare.js';
import { redactorFor } from '../redact.js';
import { VERSION } from '../version.js';
import type { McpDeps, ToolContext } from './deps.js';
import { guardEdges } from './edge-guard.js';
import { recordRefusedCall } from '../call-log/tool-call.js';
import { INSTRUCTIONS } from './instructions.js';
import { redactOutgoing } from './redacting-transport.js';
import { registerTools } from './tools/index.js';
import { registerPrompts } from './prompts/index.js';
import { registerResources } from './resources/index.js';
import { createTaskSupport } from './tasks/index.js';
import { shutdownFanOut } from './shutdown.js';
import { CallAdmission } from './rate-limit.js';
import { completeUnknownAsEmpty } from './completions.js';
import { lazySchemaValidator } from './lazy-schema-validator.js';

export type { McpDeps, ToolContext } from './deps.js';

/**
 * One MCP server over an engine the caller owns (stdio makes one; Streamable HTTP one per
 * session, all sharing the engine). `cleanup` ends this server's pending waits; the jobs keep
 * running in ComfyUI, and the engine is closed by whoever created it.
 */
export function createServer(deps: McpDeps): { server: McpServer; cleanup: () => Promise<void> } {
  const closing = new AbortController();
  const tasks = createTaskSupport();
  const ctx: ToolContext = {
    ...deps,
    cwd: deps.cwd ?? process.cwd(),
    uploadDirs: deps.uploadDirs ?? [...deps.config.uploadDirs],
    prepare: deps.prepare ?? prepareGeneration,
    admission: deps.admission ?? new CallAdmission(deps.config.limits),
    closing: closing.signal,
    shutdown$: shutdownFanOut(closing.signal),
    tasks,
  };
  const server = new McpServer(
    { name: 'comfywire', title: 'comfywire: ComfyUI for coding agents', version: VERSION },
    tasks.withTasks({
      instructions: INSTRUCTIONS(deps.config.toolWaitS),
      capabilities: { logging: {} },
      jsonSchemaValidator: lazySchemaValidator,
    }),
  );
  // Before anything registers: the SDK's handlers for tools, prompts and resources are wrapped.
  // Calls the SDK refuses on their arguments never reach a tool's guarded(): the call log hears of them here.
  guardEdges(server, (tool, args) => recordRefusedCall(ctx, tool, args));
  registerTools(server, ctx);
  // Before the first completable prompt or template: the SDK's completion handler is wrapped.
  completeUnknownAsEmpty(server);
  registerPrompts(server, ctx);
  registerResources(server, ctx);
  // Whoever connects this server (stdio, an HTTP session, a test's in-memory pair) gets a
  // transport whose every outgoing message is redacted of the configured secrets.
  const redact = redactorFor(deps.config);
  const connect = server.connect.bind(server);
  server.connect = (transport) => connect(redactOutgoing(transport, redact));
  return {
    server,
    cleanup: async () => {
      closing.abort();
      tasks.cleanup();
    },
  };
}

