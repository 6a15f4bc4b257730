import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { CallToolResultSchema, CreateTaskResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type Harness } from './mcp-harness.js';
import { advance, advanceUntil, untilReal, useFakeClock, useRealClock } from '../helpers/fake-clock.js';
import { HEARTBEAT_MS } from '../../src/mcp/progress.js';
import type { TrackedJob } from '../../streams/job-tracker.js';

/**
 * Renders of real lengths (1 minute, 10 minutes, 1 hour) through the MCP server, a real engine
 * and the simulator over loopback, on a clock the test controls: the simulator's sampler steps,
 * every limit of comfywire (the call's bound, task TTLs, heartbeats, the client's own request
 * timeout) and the socket's pings all run on it, so an hour passes in seconds.
 *
 * The clock moves in large steps while the render runs and in small ones once it has ended (the
 * history write, the download and the inline preview take milliseconds: the clock must not race
 * past them).
 */

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

let h: Harness;
afterEach(async () => {
  useRealClock();
  await h?.close();
});

/** The sampler runs `steps` steps of `stepMs` each: the render lasts about steps × stepMs. */
async function start(stepMs: number): Promise<void> {
  useFakeClock();
  h = await startHarness({
    stepDelayMs: stepMs,
    // HTTP deadlines have tests of their own (limits-http); here every request is a loopback
    // round trip that must not race the fast-moving clock.
    env: { COMFYWIRE_REQUEST_TIMEOUT_MS: String(10 * HOUR) },
  });
}

interface Progress {
  at: number;
  progress: number;
  message: string | undefined;
}

/** A plain tools/call as Claude Code makes it: progress token, timeout reset by progress. */
function plainCall(args: Record<string, unknown>, progress: Progress[] = []) {
  let settled: CallToolResult | undefined;
  const promise = h.client
    .callTool({ name: 'generate_image', arguments: { width: 64, height: 64, ...args } }, undefined, {
      onprogress: (p) => progress.push({ at: Date.now(), progress: p.progress, message: p.message }),
      resetTimeoutOnProgress: true,
      timeout: 60 * S, // the SDK's default: without progress a call would die after a minute
    })
    .then((r) => (settled = r as CallToolResult));
  return { promise, done: () => settled !== undefined };
}

/** The job a call just submitted (the POST needs no timer: wait for it in real time). */
async function submittedJob(before = new Set<string>()): Promise<TrackedJob> {
  let job: TrackedJob | undefined;
  await untilReal(() => (job = h.engine.jobs.activeJobs().find((j) => !before.has(j.promptId) && j.state.queueNumber !== undefined)) !== undefined);
  return job!;
}

/** The promise's value, moving the clock in small steps until it settles. */
async function finish<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  const watched = promise.finally(() => (done = true));
  await advanceUntil(() => done, MIN, { stepMs: 50 });
  return watched;
}

const structured = (r: CallToolResult) => r.structuredContent as Record<string, unknown> & { files: Array<{ path: string }> };

function maxGap(progress: Progress[], from: number): number {
  const times = [from, ...progress.map((p) => p.at)];
  return Math.max(...times.slice(1).map((t, i) => t - times[i]!));
}

describe('plain calls', () => {
  it('a 1-minute render returns its image to a call that waits 65 s', async () => {
    await start(S);
    const t0 = Date.now();
    const progress: Progress[] = [];
    const call = plainCall({ prompt: 'a lighthouse', steps: 60, timeout_s: 65 }, progress);
    const job = await submittedJob();
    const ran = await advanceUntil(() => job.finished, 2 * MIN);
    expect(ran).toBeGreaterThanOrEqual(60 * S);
    const result = await finish(call.promise);

    expect(result.isError).toBeFalsy();
    expect(structured(result)).toMatchObject({ status: 'success' });
    expect(existsSync(structured(result).files[0]!.path)).toBe(true);
    expect(result.content.some((c) => c.type === 'image')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(65 * S);
    // Progress values strictly rise and end at 100.
    const values = progress.map((p) => p.progress);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    expect(values.at(-1)).toBe(100);
  });

  it('the same render past a 55 s bound answers with the handle at 55 s; the job then completes and downloads', async () => {
    await start(S);
    const t0 = Date.now();
    const call = plainCall({ prompt: 'a lighthouse', steps: 60, timeout_s: 55 });
    const job = await submittedJob();
    const waited = await advanceUntil(call.done, 2 * MIN);
    expect(waited).toBeGreaterThanOrEqual(55 * S);
    expect(waited).toBeLessThan(57 * S);
    const handle = await call.promise;
    expect(handle.isError).toBeFalsy();
    expect(structured(handle)).toMatchObject({ status: 'running', prompt_id: job.promptId });
    expect(JSON.stringify(handle.content)).toContain('get_workflow_status');

    await advanceUntil(() => job.finished, 2 * MIN);
    const final = await finish(job.done);
    expect(final.status).toBe('success');
    expect(final.endedAt! - t0).toBeGreaterThanOrEqual(60 * S);
    const status = await finish(h.call('get_workflow_status', { prompt_id: job.promptId }));
    const files = (status.structuredContent as { job: { files: Array<{ path: string }> } }).job.files;
    expect(files.length).toBe(1);
    expect(existsSync(files[0]!.path)).toBe(true);
  });

  it('a 10-minute render with a 3-minute silent model load keeps the call alive with heartbeats and returns the image', async () => {
    await start(7 * S);
    h.sim.faults.slowNode({ classType: 'CheckpointLoaderSimple' }, 3 * MIN);
    const t0 = Date.now();
    const progress: Progress[] = [];
    const call = plainCall({ prompt: 'a harbour at night', steps: 60, timeout_s: 15 * 60 }, progress);
    const job = await submittedJob();
    const ran = await advanceUntil(() => job.finished, 15 * MIN, { stepMs: 1_000 });
    expect(ran).toBeGreaterThanOrEqual(10 * MIN);
    const result = await finish(call.promise);

    expect(result.isError).toBeFalsy();
    expect(structured(result)).toMatchObject({ status: 'success' });
    // The SDK client gives up after 60 s without progress: notifications never left it that long.
    expect(maxGap(progress, t0)).toBeLessThanOrEqual(HEARTBEAT_MS + 1_000);
    const during = progress.filter((p) => p.at > t0 + MIN && p.at < t0 + 2 * MIN);
    expect(during.length).toBeGreaterThanOrEqual(10);
    expect(during.every((p) => /Load Checkpoint|CheckpointLoaderSimple/.test(p.message ?? ''))).toBe(true);
    expect(during.some((p) => /\(1 min \d\d s so far\)/.test(p.message ?? ''))).toBe(true);
  });

  it('a 1-hour render answers with the handle at the default bound, and its files are downloaded when it ends an hour later', async () => {
    await start(MIN);
    const t0 = Date.now();
    const call = plainCall({ prompt: 'a long render', steps: 60 });
    const job = await submittedJob();
    const waited = await advanceUntil(call.done, 2 * MIN, { stepMs: 1_000 });
    expect(waited).toBeGreaterThanOrEqual(h.config.toolWaitS * S);
    expect(waited).toBeLessThan(h.config.toolWaitS * S + 2 * S);
    expect(structured(await call.promise)).toMatchObject({ status: 'running', prompt_id: job.promptId });

    await advanceUntil(() => job.finished, 2 * HOUR, { stepMs: 5_000 });
    const final = await finish(job.done);
    expect(final.status).toBe('success');
    expect(final.endedAt! - t0).toBeGreaterThanOrEqual(HOUR);
    expect(final.downloads.length).toBe(1);
    expect(existsSync(final.downloads[0]!.path)).toBe(true);
    // The socket stayed up the whole hour: no reconnect, so no gap to resync.
    expect(h.engine.connection.state).toBe('open');
  });

  it('a 10-minute render whose socket is cut at minute 5 still returns its image to the waiting call', async () => {
    await start(10 * S);
    const call = plainCall({ prompt: 'through a cut', steps: 60, timeout_s: 15 * 60 });
    const job = await submittedJob();
    await advance(5 * MIN, { stepMs: 1_000 });
    expect(job.state.status).toBe('running');
    let reconnects = 0;
    const watch = h.engine.connection.reconnected$.subscribe(() => reconnects++);
    h.sim.faults.dropSockets();
    await advanceUntil(() => job.finished, 10 * MIN, { stepMs: 1_000 });
    const result = await finish(call.promise);
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toMatchObject({ status: 'success', prompt_id: job.promptId });
    expect(existsSync(structured(result).files[0]!.path)).toBe(true);
    watch.unsubscribe();
    expect(reconnects).toBeGreaterThanOrEqual(1);
  });

  it('two 1-minute calls at once both return their images; the second waited its turn in the queue', async () => {
    await start(S);
    const t0 = Date.now();
    const first = plainCall({ prompt: 'first', steps: 60, timeout_s: 180 });
    const a = await submittedJob();
    const second = plainCall({ prompt: 'second', steps: 60, timeout_s: 180 });
    const b = await submittedJob(new Set([a.promptId]));
    await advanceUntil(() => a.finished && b.finished, 4 * MIN);
    const [ra, rb] = await finish(Promise.all([first.promise, second.promise]));
    expect(structured(ra)).toMatchObject({ status: 'success', prompt_id: a.promptId });
    expect(structured(rb)).toMatchObject({ status: 'success', prompt_id: b.promptId });
    expect(b.state.startedAt! - t0).toBeGreaterThanOrEqual(60 * S);
    expect(b.state.endedAt! - t0).toBeGreaterThanOrEqual(120 * S);
  });
});

describe('tasks', () => {
  async function createTask(args: Record<string, unknown>, ttl: number) {
    const r = await h.client.request(
      { method: 'tools/call', params: { name: 'generate_image', arguments: { width: 64, height: 64, ...args }, task: { ttl } } },
      CreateTaskResultSchema,
    );
    return r.task;
  }
  const taskStatus = (id: string) => h.client.experimental.tasks.getTask(id);

  it('a 1-hour render as a task with a 2-hour TTL completes with the image', async () => {
    await start(MIN);
    const task = await createTask({ prompt: 'an hour', steps: 60 }, 2 * HOUR);
    const job = await submittedJob();
    await advanceUntil(() => job.finished, 2 * HOUR, { stepMs: 5_000 });
    await advanceUntil(async () => (await taskStatus(task.taskId)).status === 'completed', MIN, { stepMs: 100 });
    const result = (await finish(h.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema))) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toMatchObject({ status: 'success', prompt_id: job.promptId });
  });

  it('a 1-hour render outliving its 30-minute TTL: the task fails at 30 min saying so, and the job still completes and downloads', async () => {
    await start(MIN);
    const t0 = Date.now();
    const task = await createTask({ prompt: 'longer than its task', steps: 60 }, 30 * MIN);
    const job = await submittedJob();

    await advance(30 * MIN - 5 * S, { stepMs: 5_000 });
    expect((await taskStatus(task.taskId)).status).toBe('working');
    const expiredAfter = await advanceUntil(async () => (await taskStatus(task.taskId)).status === 'failed', MIN, { stepMs: 1_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(30 * MIN);
    expect(expiredAfter).toBeLessThanOrEqual(6 * S);
    const expired = await taskStatus(task.taskId);
    expect(expired.statusMessage).toContain(`prompt_id ${job.promptId}`);
    const result = (await h.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/TTL of 30 min 00 s .*ran out while the render was still going/);
    expect(job.finished).toBe(false);

    await advanceUntil(() => job.finished, 2 * HOUR, { stepMs: 5_000 });
    const final = await finish(job.done);
    expect(final.status).toBe('success');
    expect(existsSync(final.downloads[0]!.path)).toBe(true);
  });
});
