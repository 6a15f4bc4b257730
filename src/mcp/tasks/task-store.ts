import { randomBytes } from 'node:crypto';
import { isTerminal, type CreateTaskOptions, type TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/index.js';
import { ErrorCode, McpError, type Request, type RequestId, type Result, type Task } from '@modelcontextprotocol/sdk/types.js';
import { formatDuration } from '../../duration.js';

/**
 * The tasks of one MCP session, for running ComfyUI jobs as MCP Tasks (spec 2025-11-25).
 *
 * Two kinds of task live here, with different lifetimes:
 * - A task the client asked for (`params.task` on tools/call) follows the spec's TTL: it is kept
 *   for `ttl` ms from its creation. A render that is still going when the TTL runs out does not
 *   vanish into "not found": the task turns `failed` with a message that says so and names the
 *   prompt_id to follow, is kept a while longer so a polling client reads that, and afterwards a
 *   tombstone still explains why the id is unknown. The job itself runs on and is downloaded.
 * - The SDK wraps every plain call of a task-capable tool in a task too (it calls createTask and
 *   reads the result back). Such a task is private plumbing: it has no TTL while the call runs,
 *   however long the render takes, is dropped the moment its result is read, and never shows in
 *   tasks/list. (A 30 s TTL here once cut every plain call longer than 30 s.)
 *
 * `tasks/cancel` only changes the stored status; a cancel hook per task turns it into an interrupt
 * or a dequeue. A run that finishes after its task was cancelled keeps its own account of what
 * happened, so tasks/result on a cancelled task says "interrupted" instead of failing.
 */

/** A direct call's result is read back at once; this only bounds a result nobody reads. */
export const DIRECT_RESULT_GRACE_MS = 60_000;
/** How long a task that expired mid-render stays readable (status failed, with the reason). */
export const EXPIRED_GRACE_MS = 10 * 60_000;
/** A result that arrives just before the TTL ends is still kept at least this long. */
export const MIN_RESULT_RETENTION_MS = 60_000;
/** Expired ids remembered to explain a later lookup; the oldest are forgotten first. */
export const MAX_TOMBSTONES = 1_000;
const PAGE_SIZE = 50;

interface Entry {
  task: Task;
  /** False for the task the SDK creates around a plain call. */
  requested: boolean;
  sessionId: string | undefined;
  result?: Result;
  /** The ComfyUI job this task runs, once submitted. */
  promptId?: string;
  cancelHook?: () => void;
  /** Set once the TTL ran out while the task was working. */
  expired?: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

export class JobTaskStore implements TaskStore {
  private readonly entries = new Map<string, Entry>();
  private readonly tombstones = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  async createTask(params: CreateTaskOptions, requestId: RequestId, request: Request, sessionId?: string): Promise<Task> {
    void requestId;
    const requested = (request.params as { task?: unknown } | undefined)?.task !== undefined;
    const taskId = randomBytes(16).toString('hex');
    const at = new Date(this.now()).toISOString();
    const ttl = requested ? (params.ttl ?? null) : null;
    const task: Task = { taskId, status: 'working', ttl, createdAt: at, lastUpdatedAt: at, pollInterval: params.pollInterval ?? 1000 };
    const entry: Entry = { task, requested, sessionId };
    this.entries.set(taskId, entry);
    if (requested && ttl !== null) this.schedule(entry, ttl, () => this.expire(taskId));
    return { ...task };
  }

  /** Whether the client asked for this task (false: a plain tool call the SDK wrapped in a task). */
  wasRequested(taskId: string): boolean {
    return this.entries.get(taskId)?.requested ?? false;
  }

  /** Runs once when the task is cancelled (tasks/cancel); replaced by a later call for the same task. */
  onCancel(taskId: string, hook: () => void): void {
    const entry = this.entries.get(taskId);
    if (entry) entry.cancelHook = hook;
  }

  /** The job behind the task, named in the messages of an expired task. */
  attachJob(taskId: string, promptId: string): void {
    const entry = this.entries.get(taskId);
    if (entry) entry.promptId = promptId;
  }

  /** The status without the session check or the expiry error (undefined once dropped). */
  statusOf(taskId: string): Task['status'] | undefined {
    return this.entries.get(taskId)?.task.status;
  }

  async getTask(taskId: string, sessionId?: string): Promise<Task | null> {
    const entry = this.lookup(taskId, sessionId);
    return entry ? { ...entry.task } : null;
  }

  async storeTaskResult(taskId: string, status: 'completed' | 'failed', result: Result, sessionId?: string): Promise<void> {
    const entry = this.find(taskId, sessionId);
    if (!entry) return; // expired meanwhile: its message already tells where the job's outputs are
    entry.cancelHook = undefined;
    if (entry.expired) return;
    if (isTerminal(entry.task.status)) {
      // Cancelled while the run was finishing: keep the run's own account, not a second status.
      entry.result = result;
      return;
    }
    entry.result = result;
    this.setStatus(entry, status);
    if (!entry.requested) {
      this.schedule(entry, DIRECT_RESULT_GRACE_MS, () => this.entries.delete(taskId));
      return;
    }
    const left = this.ttlLeft(entry);
    if (left !== undefined && left < MIN_RESULT_RETENTION_MS) this.schedule(entry, MIN_RESULT_RETENTION_MS, () => this.expire(taskId));
  }

  async getTaskResult(taskId: string, sessionId?: string): Promise<Result> {
    const entry = this.lookup(taskId, sessionId);
    if (!entry) throw notFound(taskId);
    if (!entry.result) throw new McpError(ErrorCode.InvalidParams, `Task ${taskId} has no result yet (status ${entry.task.status}).`);
    // A plain call reads its result exactly once, right away: nothing else will ask for it.
    if (!entry.requested) this.drop(entry);
    return entry.result;
  }

  async updateTaskStatus(taskId: string, status: Task['status'], statusMessage?: string, sessionId?: string): Promise<void> {
    const entry = this.lookup(taskId, sessionId);
    if (!entry) throw notFound(taskId);
    if (isTerminal(entry.task.status)) {
      throw new McpError(ErrorCode.InvalidParams, `Task ${taskId} is already ${entry.task.status}.`);
    }
    this.setStatus(entry, status, statusMessage);
    if (status !== 'cancelled') return;
    const hook = entry.cancelHook;
    entry.cancelHook = undefined;
    hook?.();
  }

  async listTasks(cursor?: string, sessionId?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const visible = [...this.entries.values()].filter((e) => e.requested && this.visible(e, sessionId));
    let start = 0;
    if (cursor !== undefined) {
      const at = visible.findIndex((e) => e.task.taskId === cursor);
      if (at < 0) throw new McpError(ErrorCode.InvalidParams, `Invalid cursor ${cursor}: list the tasks again from the start.`);
      start = at + 1;
    }
    const page = visible.slice(start, start + PAGE_SIZE);
    const more = start + PAGE_SIZE < visible.length;
    return { tasks: page.map((e) => ({ ...e.task })), ...(more ? { nextCursor: page[page.length - 1]!.task.taskId } : {}) };
  }

  /** Tasks held now (both kinds): for tests and diagnostics. */
  get size(): number {
    return this.entries.size;
  }

  /** Stops every timer and forgets every task (the session ended); the jobs keep running in ComfyUI. */
  cleanup(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
    this.tombstones.clear();
  }

  /** The TTL ran out: a working task turns failed with the reason; a finished one is dropped. */
  private expire(taskId: string): void {
    const entry = this.entries.get(taskId);
    if (!entry) return;
    const ttl = formatDuration(entry.task.ttl ?? 0);
    const job = entry.promptId;
    if (isTerminal(entry.task.status)) {
      this.drop(entry);
      this.bury(
        taskId,
        `Task ${taskId} has expired: its result was kept for its TTL of ${ttl} (counted from its creation) and is gone now.` +
          (job ? ` Its job, prompt_id ${job}, is still known: call get_workflow_status with that prompt_id for its state and files.` : ''),
      );
      return;
    }
    const reason =
      `Task ${taskId} expired: its TTL of ${ttl} (counted from its creation) ran out while the render was still going. ` +
      (job
        ? `The job itself goes on in ComfyUI as prompt_id ${job} and its outputs are still downloaded: follow it with get_workflow_status {"prompt_id": "${job}"}.`
        : 'The job itself goes on in ComfyUI: get_workflow_status without a prompt_id lists the jobs.') +
      ' For renders this long, ask for a longer ttl when creating the task (up to 24 h).';
    entry.expired = true;
    entry.cancelHook = undefined;
    entry.result = { content: [{ type: 'text', text: reason }], isError: true, ...(job ? { structuredContent: { prompt_id: job, status: 'expired' } } : {}) };
    this.setStatus(entry, 'failed', reason);
    this.schedule(entry, EXPIRED_GRACE_MS, () => {
      this.drop(entry);
      this.bury(taskId, reason);
    });
  }

  private find(taskId: string, sessionId: string | undefined): Entry | undefined {
    const entry = this.entries.get(taskId);
    return entry && this.visible(entry, sessionId) ? entry : undefined;
  }

  /** Like find, but an expired id throws its reason. */
  private lookup(taskId: string, sessionId: string | undefined): Entry | undefined {
    const entry = this.find(taskId, sessionId);
    if (entry || this.entries.has(taskId)) return entry;
    const why = this.tombstones.get(taskId);
    // The SDK turns a null task into a bare "Task not found"; an expired one deserves its reason.
    if (why !== undefined) throw new McpError(ErrorCode.InvalidParams, why);
    return undefined;
  }

  /** A task created in a session belongs to it; calls without a session are not restricted. */
  private visible(entry: Entry, sessionId: string | undefined): boolean {
    return sessionId === undefined || entry.sessionId === undefined || entry.sessionId === sessionId;
  }

  private setStatus(entry: Entry, status: Task['status'], statusMessage?: string): void {
    entry.task.status = status;
    if (statusMessage !== undefined) entry.task.statusMessage = statusMessage;
    entry.task.lastUpdatedAt = new Date(this.now()).toISOString();
  }

  private ttlLeft(entry: Entry): number | undefined {
    if (entry.task.ttl === null) return undefined;
    return Date.parse(entry.task.createdAt) + entry.task.ttl - this.now();
  }

  private schedule(entry: Entry, ms: number, fn: () => void): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(fn, ms);
    // A pending expiry must not keep a finished CLI or test process alive.
    entry.timer.unref?.();
  }

  private drop(entry: Entry): void {
    clearTimeout(entry.timer);
    this.entries.delete(entry.task.taskId);
  }

  private bury(taskId: string, why: string): void {
    this.tombstones.set(taskId, why);
    if (this.tombstones.size > MAX_TOMBSTONES) this.tombstones.delete(this.tombstones.keys().next().value!);
  }
}

function notFound(taskId: string): McpError {
  return new McpError(
    ErrorCode.InvalidParams,
    `Task ${taskId} is not known to this session (never created here, or created before the server restarted). ` +
      'Jobs outlive tasks: get_workflow_status lists them.',
  );
}
