import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Request, Result } from '@modelcontextprotocol/sdk/types.js';
import {
  DIRECT_RESULT_GRACE_MS,
  EXPIRED_GRACE_MS,
  JobTaskStore,
  MIN_RESULT_RETENTION_MS,
} from '../../src/mcp/tasks/task-store.js';

/**
 * The task store's lifetimes on a fake clock: the TTL of a requested task (spec 2025-11-25:
 * retention counted from creation), the private task of a plain call (no TTL while it runs), and
 * what a client reads when a render outlives its task.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const plainCall: Request = { method: 'tools/call', params: { name: 'generate_image', arguments: {} } };
const taskCall = (ttl?: number): Request => ({
  method: 'tools/call',
  params: { name: 'generate_image', arguments: {}, task: ttl === undefined ? {} : { ttl } },
});
const ok: Result = { content: [{ type: 'text', text: 'rendered' }] };

let store: JobTaskStore;
beforeEach(() => {
  jest.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
  store = new JobTaskStore();
});
afterEach(() => {
  store.cleanup();
  jest.useRealTimers();
});

async function create(request: Request, ttl: number | null = null) {
  return store.createTask({ ttl, pollInterval: 500 }, 1, request);
}

describe('the task behind a plain call', () => {
  it.each([
    ['31 s', 31_000],
    ['1 minute', MIN],
    ['10 minutes', 10 * MIN],
    ['1 hour', HOUR],
    ['5 hours', 5 * HOUR],
  ])('keeps its place however long the render runs (%s), even with a TTL passed in', async (_label, renderMs) => {
    // The SDK passes the TTL it was given; a plain call's task must not expire mid-render.
    const task = await store.createTask({ ttl: 30_000, pollInterval: 500 }, 1, plainCall);
    expect(store.wasRequested(task.taskId)).toBe(false);
    await jest.advanceTimersByTimeAsync(renderMs);
    await store.storeTaskResult(task.taskId, 'completed', ok);
    expect(await store.getTaskResult(task.taskId)).toEqual(ok);
  });

  it('is dropped the moment its result is read, and never listed', async () => {
    const task = await create(plainCall);
    expect((await store.listTasks()).tasks).toEqual([]);
    await store.storeTaskResult(task.taskId, 'completed', ok);
    expect(store.size).toBe(1);
    await store.getTaskResult(task.taskId);
    expect(store.size).toBe(0);
  });

  it('drops an unread result after the grace period, not before', async () => {
    const task = await create(plainCall);
    await store.storeTaskResult(task.taskId, 'completed', ok);
    await jest.advanceTimersByTimeAsync(DIRECT_RESULT_GRACE_MS - 1);
    expect(store.size).toBe(1);
    await jest.advanceTimersByTimeAsync(2);
    expect(store.size).toBe(0);
  });
});

describe('a task the client asked for', () => {
  it('stays working up to its TTL and is listed', async () => {
    const task = await create(taskCall(30 * MIN), 30 * MIN);
    expect(task.ttl).toBe(30 * MIN);
    await jest.advanceTimersByTimeAsync(30 * MIN - 1);
    expect((await store.getTask(task.taskId))?.status).toBe('working');
    expect((await store.listTasks()).tasks.map((t) => t.taskId)).toEqual([task.taskId]);
  });

  it('turns failed with the reason and the prompt_id when the render outlives the TTL', async () => {
    const task = await create(taskCall(30 * MIN), 30 * MIN);
    store.attachJob(task.taskId, 'prompt-123');
    await jest.advanceTimersByTimeAsync(30 * MIN + 1);
    const now = await store.getTask(task.taskId);
    expect(now?.status).toBe('failed');
    expect(now?.statusMessage).toMatch(/TTL of 30 min 00 s .*ran out while the render was still going/);
    expect(now?.statusMessage).toContain('prompt_id prompt-123');
    const result = await store.getTaskResult(task.taskId);
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('get_workflow_status');
    expect(result.structuredContent).toEqual({ prompt_id: 'prompt-123', status: 'expired' });
  });

  it('ignores the late result of an expired task and then explains the unknown id', async () => {
    const task = await create(taskCall(MIN), MIN);
    store.attachJob(task.taskId, 'prompt-9');
    await jest.advanceTimersByTimeAsync(10 * MIN); // the render ran 10 minutes
    await store.storeTaskResult(task.taskId, 'completed', ok);
    expect((await store.getTask(task.taskId))?.status).toBe('failed');

    await jest.advanceTimersByTimeAsync(EXPIRED_GRACE_MS);
    // The SDK would say a bare "Task not found"; the store says why.
    await expect(store.getTask(task.taskId)).rejects.toThrow(/expired: its TTL of 1 min 00 s .*prompt_id prompt-9/);
    await expect(store.getTaskResult(task.taskId)).rejects.toThrow(/expired/);
  });

  it('keeps a finished result until the TTL counted from creation, then explains', async () => {
    const task = await create(taskCall(HOUR), HOUR);
    store.attachJob(task.taskId, 'prompt-1');
    await jest.advanceTimersByTimeAsync(10 * MIN);
    await store.storeTaskResult(task.taskId, 'completed', ok);
    await jest.advanceTimersByTimeAsync(50 * MIN - 1);
    expect(await store.getTaskResult(task.taskId)).toEqual(ok);
    await jest.advanceTimersByTimeAsync(2);
    await expect(store.getTask(task.taskId)).rejects.toThrow(/result was kept for its TTL of 1 h 00 min .*prompt_id prompt-1/);
  });

  it('keeps a result that arrives just before the TTL ends for at least a minute', async () => {
    const task = await create(taskCall(10 * MIN), 10 * MIN);
    await jest.advanceTimersByTimeAsync(10 * MIN - 1_000);
    await store.storeTaskResult(task.taskId, 'completed', ok);
    await jest.advanceTimersByTimeAsync(MIN_RESULT_RETENTION_MS - 1);
    expect(await store.getTaskResult(task.taskId)).toEqual(ok);
    await jest.advanceTimersByTimeAsync(2);
    await expect(store.getTaskResult(task.taskId)).rejects.toThrow(/expired/);
  });

  it('without a TTL, lives until the session ends', async () => {
    const task = await create(taskCall(), null);
    await jest.advanceTimersByTimeAsync(48 * HOUR);
    await store.storeTaskResult(task.taskId, 'completed', ok);
    await jest.advanceTimersByTimeAsync(48 * HOUR);
    expect(await store.getTaskResult(task.taskId)).toEqual(ok);
  });

  it('runs its cancel hook once, and keeps the run\'s own account afterwards', async () => {
    const task = await create(taskCall(HOUR), HOUR);
    const hook = jest.fn();
    store.onCancel(task.taskId, hook);
    await store.updateTaskStatus(task.taskId, 'cancelled', 'Client cancelled task execution.');
    await expect(store.updateTaskStatus(task.taskId, 'cancelled')).rejects.toThrow(/already cancelled/);
    expect(hook).toHaveBeenCalledTimes(1);
    const interrupted: Result = { content: [{ type: 'text', text: 'interrupted' }] };
    await store.storeTaskResult(task.taskId, 'completed', interrupted);
    expect((await store.getTask(task.taskId))?.status).toBe('cancelled');
    expect(await store.getTaskResult(task.taskId)).toEqual(interrupted);
  });

  it('belongs to its session', async () => {
    const task = await store.createTask({ ttl: HOUR }, 1, taskCall(HOUR), 'session-a');
    expect(await store.getTask(task.taskId, 'session-b')).toBeNull();
    expect((await store.getTask(task.taskId, 'session-a'))?.taskId).toBe(task.taskId);
    expect((await store.listTasks(undefined, 'session-b')).tasks).toEqual([]);
  });

  it('pages tasks/list and refuses an unknown cursor with what to do', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await create(taskCall(HOUR), HOUR)).taskId);
    const first = await store.listTasks();
    expect(first.tasks).toHaveLength(50);
    const second = await store.listTasks(first.nextCursor);
    expect([...first.tasks, ...second.tasks].map((t) => t.taskId)).toEqual(ids);
    expect(second.nextCursor).toBeUndefined();
    await expect(store.listTasks('nope')).rejects.toThrow(/list the tasks again/);
  });

  it('an id never created here is explained, not a bare "not found"', async () => {
    await expect(store.getTaskResult('f00')).rejects.toThrow(/not known to this session .*get_workflow_status/);
    expect(await store.getTask('f00')).toBeNull();
  });
});
