import { InMemoryTaskStore, isTerminal, type CreateTaskOptions, type TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/index.js';
import type { Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';

/**
 * The SDK's in-memory store, plus what running ComfyUI jobs as tasks needs:
 * - `tasks/cancel` only flips the stored status, so a cancel hook per task turns it into an
 *   interrupt or a dequeue (the hook aborts the run, which asks the engine to cancel);
 * - the run still finishes after a cancel (with "interrupted" or "removed from the queue"): that
 *   result is kept, so tasks/result on a cancelled task says what happened instead of failing;
 * - a tool call made without task augmentation also creates a task (the SDK routes it through
 *   createTask); the store remembers which tasks a client really asked for, so those direct calls
 *   run inline and stay out of tasks/list.
 */
/** How long the task behind a plain (not task-augmented) call keeps its result. */
export const DIRECT_TASK_TTL_MS = 30_000;

export class JobTaskStore implements TaskStore {
  private readonly inner = new InMemoryTaskStore();
  private readonly requested = new Set<string>();
  private readonly cancelHooks = new Map<string, () => void>();
  private readonly lateResults = new Map<string, Result>();

  async createTask(params: CreateTaskOptions, requestId: RequestId, request: Request, sessionId?: string): Promise<Task> {
    this.sweep();
    const requested = (request.params as { task?: unknown } | undefined)?.task !== undefined;
    // A direct call's task only carries its result to the SDK a moment later; holding it (inline
    // images included) for the full TTL would only cost memory.
    const task = await this.inner.createTask(requested ? params : { ...params, ttl: DIRECT_TASK_TTL_MS }, requestId, request, sessionId);
    if (requested) this.requested.add(task.taskId);
    return task;
  }

  /** Whether the client asked for this task (false: a plain tool call the SDK wrapped in a task). */
  wasRequested(taskId: string): boolean {
    return this.requested.has(taskId);
  }

  /** Runs once when the task is cancelled (tasks/cancel); replaced by a later call for the same task. */
  onCancel(taskId: string, hook: () => void): void {
    this.cancelHooks.set(taskId, hook);
  }

  getTask(taskId: string, sessionId?: string): Promise<Task | null> {
    return this.inner.getTask(taskId, sessionId);
  }

  async storeTaskResult(taskId: string, status: 'completed' | 'failed', result: Result, sessionId?: string): Promise<void> {
    this.cancelHooks.delete(taskId);
    const task = await this.inner.getTask(taskId, sessionId);
    if (task && isTerminal(task.status)) {
      this.lateResults.set(taskId, result);
      return;
    }
    await this.inner.storeTaskResult(taskId, status, result, sessionId);
  }

  async getTaskResult(taskId: string, sessionId?: string): Promise<Result> {
    const late = this.lateResults.get(taskId);
    if (late && (await this.inner.getTask(taskId, sessionId))) return late;
    return this.inner.getTaskResult(taskId, sessionId);
  }

  async updateTaskStatus(taskId: string, status: Task['status'], statusMessage?: string, sessionId?: string): Promise<void> {
    await this.inner.updateTaskStatus(taskId, status, statusMessage, sessionId);
    if (status !== 'cancelled') return;
    const hook = this.cancelHooks.get(taskId);
    this.cancelHooks.delete(taskId);
    hook?.();
  }

  async listTasks(cursor?: string, sessionId?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const page = await this.inner.listTasks(cursor, sessionId);
    return { ...page, tasks: page.tasks.filter((t) => this.requested.has(t.taskId)) };
  }

  /** The inner store drops tasks when their TTL ends; drop what this wrapper knew of them too. */
  private sweep(): void {
    const alive = new Set(this.inner.getAllTasks().map((t) => t.taskId));
    for (const id of this.requested) if (!alive.has(id)) this.requested.delete(id);
    for (const id of this.lateResults.keys()) if (!alive.has(id)) this.lateResults.delete(id);
  }

  /** Stops TTL timers and forgets every task (the session ended). */
  cleanup(): void {
    this.inner.cleanup();
    this.requested.clear();
    this.cancelHooks.clear();
    this.lateResults.clear();
  }
}
