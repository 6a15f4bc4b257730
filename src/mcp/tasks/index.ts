import type { ServerOptions } from '@modelcontextprotocol/sdk/server/index.js';
import { JobTaskStore } from './task-store.js';

export { JobTaskStore } from './task-store.js';
export { registerTaskTool, DEFAULT_TASK_TTL_MS, TASK_POLL_INTERVAL_MS } from './task-tool.js';
export type { RunHooks, TaskToolConfig, TaskToolOptions, ToolRun } from './task-tool.js';

/** Task support for one McpServer (one session): its store and the capability it declares. */
export interface TaskSupport {
  store: JobTaskStore;
  /** McpServer options with the task store added and the `tasks` capability merged in. */
  withTasks<O extends ServerOptions>(options: O): O;
  /** Ends TTL timers and forgets the tasks; the jobs themselves keep running in ComfyUI. */
  cleanup(): void;
}

export function createTaskSupport(): TaskSupport {
  const store = new JobTaskStore();
  return {
    store,
    withTasks: (options) => ({
      ...options,
      taskStore: store,
      capabilities: {
        ...options.capabilities,
        tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
      },
    }),
    cleanup: () => store.cleanup(),
  };
}
