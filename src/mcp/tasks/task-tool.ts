import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ShapeOutput, ZodRawShapeCompat } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { CreateTaskRequestHandlerExtra, TaskRequestHandlerExtra, ToolTaskHandler } from '@modelcontextprotocol/sdk/experimental/tasks/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { failure } from '../results.js';
import type { JobTaskStore } from './task-store.js';

/**
 * A tool that runs either as a plain call or, when the client asks for task execution
 * (spec 2025-11-25), as a task: created at once, polled with tasks/get, its result fetched with
 * tasks/result, stopped with tasks/cancel.
 *
 * The SDK sends every call of a task-capable tool through createTask, and answers a plain call by
 * polling the task it returns. A plain call therefore runs inline here, with the request's own
 * progress token and cancellation, and returns an already completed task: the SDK then skips its
 * poll loop and answers at once, so plain calls keep their latency and behaviour.
 */

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
/** What a task's run tells the task while it goes. */
export interface RunHooks {
  /** The job reached ComfyUI under this prompt_id. */
  onSubmitted?(promptId: string): void;
}
export type ToolRun<A> = (args: A, extra: Extra, hooks?: RunHooks) => Promise<CallToolResult>;

/** How long a finished task's result stays fetchable unless the client asked for another TTL. */
export const DEFAULT_TASK_TTL_MS = 60 * 60_000;
/** Renders take seconds; polling faster than this only adds load. */
export const TASK_POLL_INTERVAL_MS = 500;
/** Client-requested TTLs are capped so a forgotten task does not pin memory for days. */
const MAX_TASK_TTL_MS = 24 * 60 * 60_000;

export interface TaskToolConfig<Shape extends ZodRawShapeCompat> {
  title?: string;
  description?: string;
  inputSchema: Shape;
  outputSchema?: ZodRawShapeCompat;
  annotations?: ToolAnnotations;
}

export interface TaskToolOptions<A> {
  store: JobTaskStore;
  logger: Logger;
  /** The plain call. */
  run: ToolRun<A>;
  /** The task run (defaults to `run`); its extra.signal aborts on tasks/cancel. */
  runTask?: ToolRun<A>;
}

export function registerTaskTool<Shape extends ZodRawShapeCompat>(
  server: McpServer,
  name: string,
  config: TaskToolConfig<Shape>,
  options: TaskToolOptions<ShapeOutput<Shape>>,
): RegisteredTool {
  type A = ShapeOutput<Shape>;
  const { store, logger } = options;
  const runTask = options.runTask ?? options.run;

  const createTask = async (args: A, extra: CreateTaskRequestHandlerExtra) => {
    const requestedTtl = extra.taskRequestedTtl;
    const ttl = requestedTtl == null ? DEFAULT_TASK_TTL_MS : Math.min(requestedTtl, MAX_TASK_TTL_MS);
    const task = await extra.taskStore.createTask({ ttl, pollInterval: TASK_POLL_INTERVAL_MS });

    if (!store.wasRequested(task.taskId)) {
      // A plain call: answer inline. The store is used directly, not through extra.taskStore, so no
      // tasks/status notification reaches a client that never asked for a task.
      let result: CallToolResult;
      try {
        result = await options.run(args, extra);
      } catch (error) {
        result = failure(`${name} failed unexpectedly: ${describeError(error)}`);
      }
      await store.storeTaskResult(task.taskId, 'completed', result, extra.sessionId);
      return { task: { ...task, status: 'completed' as const } };
    }

    // A requested task: run in the background; tasks/cancel aborts this controller.
    const abort = new AbortController();
    store.onCancel(task.taskId, () => abort.abort());
    const taskExtra: Extra = { ...extra, signal: abort.signal };
    const hooks: RunHooks = {
      onSubmitted: (promptId) => {
        store.attachJob(task.taskId, promptId);
        // Through the request's store, so a task-aware client sees the prompt_id in tasks/status.
        extra.taskStore
          .updateTaskStatus(task.taskId, 'working', `Queued in ComfyUI as prompt_id ${promptId}.`)
          .catch((e: unknown) => logger.debug(`${name}: status of task ${task.taskId} not updated: ${describeError(e)}`));
      },
    };
    void (async () => {
      let result: CallToolResult;
      try {
        result = await runTask(args, taskExtra, hooks);
      } catch (error) {
        result = failure(`${name} failed unexpectedly: ${describeError(error)}`);
      }
      try {
        // Through the request's store, so the client gets notifications/tasks/status; a task
        // cancelled meanwhile keeps the result in the store without a second status change.
        const now = store.statusOf(task.taskId);
        if (now === 'working' || now === 'input_required') {
          await extra.taskStore.storeTaskResult(task.taskId, result.isError ? 'failed' : 'completed', result);
        } else {
          await store.storeTaskResult(task.taskId, 'completed', result, extra.sessionId);
        }
      } catch (error) {
        logger.warn(`${name}: result of task ${task.taskId} not stored: ${describeError(error)}`);
      }
    })();
    logger.info(`${name}: task ${task.taskId} created`);
    return { task };
  };

  const handler: ToolTaskHandler<Shape> = {
    createTask: createTask as ToolTaskHandler<Shape>['createTask'],
    // The SDK answers tasks/get and tasks/result from the store itself; these serve its fallbacks.
    getTask: (async (_args: A, extra: TaskRequestHandlerExtra) => extra.taskStore.getTask(extra.taskId)) as ToolTaskHandler<Shape>['getTask'],
    getTaskResult: (async (_args: A, extra: TaskRequestHandlerExtra) =>
      (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult) as ToolTaskHandler<Shape>['getTaskResult'],
  };

  return server.experimental.tasks.registerToolTask(
    name,
    { ...config, execution: { taskSupport: 'optional' } },
    handler,
  );
}
