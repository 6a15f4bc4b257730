import { CallToolResultSchema, CreateTaskResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type Harness } from './mcp-harness.js';
import { eventually } from '../helpers/wait.js';

/** generate_image as an MCP task (spec 2025-11-25) against a real engine and simulator. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 20 });
});
afterAll(async () => h.close());

async function createTask(args: Record<string, unknown>) {
  const r = await h.client.request(
    { method: 'tools/call', params: { name: 'generate_image', arguments: args, task: { ttl: 60_000 } } },
    CreateTaskResultSchema,
  );
  return r.task;
}

/** The job behind a task: the one job that appears after `before`. */
async function newJobId(before: Set<string>): Promise<string> {
  return eventually(() => h.engine.jobs.activeJobs().map((j) => j.promptId).find((id) => !before.has(id)));
}

const knownIds = () => new Set([...h.engine.jobs.activeJobs().map((j) => j.promptId), ...h.engine.jobs.recent().map((s) => s.promptId)]);

test('generate_image advertises optional task support and the server the tasks capability', async () => {
  const { tools } = await h.client.listTools();
  expect(tools.find((t) => t.name === 'generate_image')?.execution).toEqual({ taskSupport: 'optional' });
  expect(tools.find((t) => t.name === 'list_models')?.execution?.taskSupport ?? 'forbidden').toBe('forbidden');
  expect(h.client.getServerCapabilities()?.tasks).toMatchObject({ cancel: {}, list: {}, requests: { tools: { call: {} } } });
});

test('a task is created at once, polled while working, and completes with the render', async () => {
  const task = await createTask({ prompt: 'a lighthouse', steps: 15, width: 64, height: 64, seed: 7 });
  // Created at once: a task that waited for the render would already be completed.
  expect(task.status).toBe('working');
  expect(task.pollInterval).toBeGreaterThan(0);

  const polled = await h.client.experimental.tasks.getTask(task.taskId);
  expect(polled.status).toBe('working');
  const listed = await h.client.experimental.tasks.listTasks();
  expect(listed.tasks.map((t) => t.taskId)).toContain(task.taskId);

  await eventually(async () => ((await h.client.experimental.tasks.getTask(task.taskId)).status === 'completed' ? true : undefined));
  const result = (await h.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)) as CallToolResult;
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ status: 'success', seed: 7 });
});

test('tasks/result blocks until the task is done', async () => {
  const task = await createTask({ prompt: 'a boat', steps: 10, width: 64, height: 64 });
  const result = (await h.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)) as CallToolResult;
  expect(result.structuredContent).toMatchObject({ status: 'success' });
  expect((await h.client.experimental.tasks.getTask(task.taskId)).status).toBe('completed');
});

test('a task outlives the plain call bound: it waits for the job end instead of returning a handle', async () => {
  const task = await createTask({ prompt: 'slow', steps: 40, width: 64, height: 64, timeout_s: 0.05 });
  const result = (await h.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)) as CallToolResult;
  expect(result.structuredContent).toMatchObject({ status: 'success' });
});

test('cancelling a running task interrupts the simulated run', async () => {
  const before = knownIds();
  const task = await createTask({ prompt: 'to be cancelled', steps: 150, width: 64, height: 64 });
  const id = await newJobId(before);
  const job = h.engine.jobs.active(id)!;
  await eventually(() => (job.state.status === 'running' ? true : undefined));

  const cancelled = await h.client.experimental.tasks.cancelTask(task.taskId);
  expect(cancelled.status).toBe('cancelled');
  const final = await job.done;
  expect(final.status).toBe('interrupted');
  expect(Object.values(final.nodes).some((n) => n.value < n.max) || final.interrupted !== undefined).toBe(true);
  expect((await h.client.experimental.tasks.getTask(task.taskId)).status).toBe('cancelled');
  // The run's own account of the cancel is kept for tasks/result.
  const result = await eventually(async () =>
    h.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema).then((r) => r as CallToolResult, () => undefined),
  );
  expect(JSON.stringify(result.content)).toMatch(/interrupt/i);
});

test('cancelling a queued task removes it from the queue', async () => {
  const before = knownIds();
  const blocker = await createTask({ prompt: 'blocker', steps: 60, width: 64, height: 64 });
  const blockerId = await newJobId(before);
  const mid = knownIds();
  const queued = await createTask({ prompt: 'queued then cancelled', steps: 5, width: 64, height: 64 });
  const queuedId = await newJobId(mid);
  const queuedJob = h.engine.jobs.active(queuedId)!;
  await eventually(() => (queuedJob.state.queueNumber !== undefined ? true : undefined));

  await h.client.experimental.tasks.cancelTask(queued.taskId);
  const final = await queuedJob.done;
  expect(final.status).toBe('cancelled');
  const blockerResult = (await h.client.experimental.tasks.getTaskResult(blocker.taskId, CallToolResultSchema)) as CallToolResult;
  expect(blockerResult.structuredContent).toMatchObject({ status: 'success', prompt_id: blockerId });
});

test('a plain call of the task-capable tool still answers directly and stays out of tasks/list', async () => {
  const { tasks: beforeTasks } = await h.client.experimental.tasks.listTasks();
  const r = await h.call('generate_image', { prompt: 'plain', steps: 3, width: 64, height: 64 });
  expect(r.isError).toBeFalsy();
  expect(r.structuredContent).toMatchObject({ status: 'success' });
  const { tasks } = await h.client.experimental.tasks.listTasks();
  expect(tasks.length).toBe(beforeTasks.length);
});

test('the TTL a client asks for is granted up to 24 h; none asked means 1 h', async () => {
  const create = async (task: Record<string, unknown>) =>
    (
      await h.client.request(
        { method: 'tools/call', params: { name: 'generate_image', arguments: { prompt: 'ttl', steps: 1, width: 64, height: 64 }, task } },
        CreateTaskResultSchema,
      )
    ).task;
  expect((await create({ ttl: 90_000 })).ttl).toBe(90_000);
  expect((await create({ ttl: 24 * 3_600_000 + 1 })).ttl).toBe(24 * 3_600_000);
  expect((await create({})).ttl).toBe(3_600_000);
});
