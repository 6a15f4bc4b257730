import { afterEach, expect, it } from '@jest/globals';
import type { JobHandle } from '../../streams/tracked-job.js';
import type { JobState } from '../../streams/job-state.js';
import { GONE_RECHECK_MS } from '../../streams/where-is.js';
import { advanceUntil, closeOnFakeClock, useFakeClock } from '../helpers/fake-clock.js';
import { startFleetHarness, type FleetHarness } from '../helpers/fleet-harness.js';
import { slowPrompt } from '../helpers/prompts.js';

/**
 * A host restarts (the simulator's restart fault: sockets dropped, queue and history gone) with a
 * job of ours running and one waiting there, on a fake clock with the product's reconnect delays.
 * The running job follows the single-host rules (lost, saying ComfyUI restarted). The waiting one,
 * under COMFYWIRE_FAILOVER=requeue, moves to the other host under the same id and succeeds there,
 * its caller never seeing it lost; under `off` it ends lost as with one host.
 */

const S = 1_000;
const HOUR = 3_600 * S;
let h: FleetHarness | undefined;

afterEach(async () => {
  if (h) await closeOnFakeClock(h.close());
  h = undefined;
});

async function fleetOf(failover: 'requeue' | 'off'): Promise<FleetHarness> {
  useFakeClock();
  const harness = await startFleetHarness([{ sim: { stepDelayMs: 10 } }, { sim: { stepDelayMs: 10 } }], {
    COMFYWIRE_FAILOVER: failover,
    COMFYWIRE_REQUEST_TIMEOUT_MS: String(HOUR),
  });
  await advanceUntil(() => harness.fleet.hosts.every((x) => x.engine.connection.state === 'open'), 10 * S, { stepMs: 10 });
  return harness;
}

async function submitted(harness: FleetHarness, prompt: ReturnType<typeof slowPrompt>): Promise<JobHandle> {
  let job: JobHandle | undefined;
  let error: unknown;
  void harness.fleet.submit(prompt).then((j) => (job = j), (e: unknown) => (error = e));
  await advanceUntil(() => job !== undefined || error !== undefined, 10 * S, { stepMs: 10 });
  if (error) throw error;
  return job!;
}

/** Two long jobs (one running per host), then two short ones (one waiting per host). */
async function loaded(harness: FleetHarness): Promise<{ running: JobHandle[]; waiting: JobHandle[] }> {
  const running = [await submitted(harness, slowPrompt(100, 1_000)), await submitted(harness, slowPrompt(30, 1_000))];
  const waiting = [await submitted(harness, slowPrompt(2, 10)), await submitted(harness, slowPrompt(2, 10))];
  await advanceUntil(() => running.every((j) => j.state.status === 'running') && waiting.every((j) => j.state.queueNumber !== undefined), 10 * S, { stepMs: 10 });
  expect(new Set(running.map((j) => j.state.host)).size).toBe(2);
  expect(new Set(waiting.map((j) => j.state.host)).size).toBe(2);
  return { running, waiting };
}

function statesOf(job: JobHandle): JobState[] {
  const seen: JobState[] = [];
  job.states$.subscribe((s) => seen.push(s));
  return seen;
}

it('requeue: the job waiting on the restarted host moves to the other host under its id and succeeds there; the running one ends lost', async () => {
  h = await fleetOf('requeue');
  const { running, waiting } = await loaded(h);
  const onGpu1 = (jobs: JobHandle[]): JobHandle => jobs.find((j) => j.state.host === 'gpu-1')!;
  const [run1, wait1] = [onGpu1(running), onGpu1(waiting)];
  const seen = statesOf(wait1);
  const restartedAt = Date.now();
  await h.sims[0]!.faults.restart();

  await advanceUntil(() => run1.finished, 10 * S, { stepMs: 50 });
  const lostRun = await run1.done;
  expect(lostRun).toMatchObject({ status: 'lost', host: 'gpu-1' });
  expect(lostRun.lostReason).toMatch(/ComfyUI was probably restarted/);
  expect(Date.now() - restartedAt).toBeGreaterThanOrEqual(GONE_RECHECK_MS);

  // Behind gpu-2's own 30 s job, then its 2 steps.
  await advanceUntil(() => wait1.finished, 60 * S, { stepMs: 200 });
  const moved = await wait1.done;
  expect(moved).toMatchObject({ status: 'success', host: 'gpu-2', promptId: wait1.promptId });
  expect(moved.dispatch).toMatch(/^re-dispatched: gpu-1 no longer had the job before it started \(ComfyUI restarted there, or the job was removed from its queue\); sent to gpu-2: /);
  expect(seen.some((s) => s.status === 'lost')).toBe(false);
  expect(seen.some((s) => s.dispatch?.startsWith('re-dispatching: gpu-1 no longer had the job'))).toBe(true);
  expect(moved.submittedAt).toBe(seen[0]!.submittedAt);
  // It ran on gpu-2, and gpu-1 (restarted) never ran it.
  const history = async (i: number): Promise<number> => Object.keys((await (await fetch(`${h!.sims[i]!.url}/history/${wait1.promptId}`)).json()) as object).length;
  expect(await history(1)).toBe(1);
  expect(await history(0)).toBe(0);
  // The fleet answers for it from its new host, and lists it once.
  expect(h.fleet.jobState(wait1.promptId)).toMatchObject({ status: 'success', host: 'gpu-2' });
  expect(h.fleet.job(wait1.promptId)).toBeUndefined();
  expect(h.fleet.hostOf(wait1.promptId)?.spec.name).toBe('gpu-2');
  await advanceUntil(() => h!.fleet.inFlight().every((j) => j.finished), 120 * S, { stepMs: 500 });
  expect(h.fleet.recent().filter((s) => s.promptId === wait1.promptId)).toHaveLength(1);
}, 60_000);

it('off: the job waiting on the restarted host ends lost there, as with one host', async () => {
  h = await fleetOf('off');
  const { waiting } = await loaded(h);
  const wait1 = waiting.find((j) => j.state.host === 'gpu-1')!;
  await h.sims[0]!.faults.restart();
  await advanceUntil(() => wait1.finished, 10 * S, { stepMs: 50 });
  const end = await wait1.done;
  expect(end).toMatchObject({ status: 'lost', host: 'gpu-1' });
  expect(end.lostReason).toMatch(/removed from ComfyUI's queue before it ran|ComfyUI was probably restarted/);
  expect(end.dispatch).toMatch(/^sent to gpu-1: /);
}, 60_000);

it('requeue with no other host able to run it: the job goes back to the restarted host once it is up again', async () => {
  useFakeClock();
  h = await startFleetHarness([{ sim: { stepDelayMs: 10 }, tags: ['only'] }, { sim: { stepDelayMs: 10 } }], { COMFYWIRE_REQUEST_TIMEOUT_MS: String(HOUR) });
  await advanceUntil(() => h!.fleet.hosts.every((x) => x.engine.connection.state === 'open'), 10 * S, { stepMs: 10 });
  const jobs: JobHandle[] = [];
  for (const p of [slowPrompt(50, 1_000), slowPrompt(2, 10)]) {
    let job: JobHandle | undefined;
    void h.fleet.submit(p, { tags: ['only'] }).then((j) => (job = j));
    await advanceUntil(() => job !== undefined, 10 * S, { stepMs: 10 });
    jobs.push(job!);
  }
  const waiting = jobs[1]!;
  await advanceUntil(() => waiting.state.queueNumber !== undefined && jobs[0]!.state.status === 'running', 10 * S, { stepMs: 10 });
  await h.sims[0]!.faults.restart();
  await advanceUntil(() => waiting.finished, 30 * S, { stepMs: 50 });
  const end = await waiting.done;
  expect(end).toMatchObject({ status: 'success', host: 'gpu-1' });
  expect(end.dispatch).toMatch(/^re-dispatched: gpu-1 no longer had the job .*; sent to gpu-1: /);
}, 60_000);

it('requeue: a host whose socket drops but which keeps its queue moves nothing; its running and waiting jobs complete there after the resync', async () => {
  h = await fleetOf('requeue');
  const { running, waiting } = await loaded(h);
  const onGpu1 = [running, waiting].map((jobs) => jobs.find((j) => j.state.host === 'gpu-1')!);
  h.sims[0]!.faults.dropSockets();
  await advanceUntil(() => h!.fleet.host('gpu-1')!.engine.connection.state !== 'open', 5 * S, { stepMs: 10 });
  await advanceUntil(() => onGpu1.every((j) => j.finished), 200 * S, { stepMs: 500 });
  for (const job of onGpu1) {
    const end = await job.done;
    expect(end).toMatchObject({ status: 'success', host: 'gpu-1' });
    expect(end.dispatch).toMatch(/^sent to gpu-1: /);
  }
  // Each ran once, on gpu-1 only.
  for (const job of onGpu1) {
    expect(Object.keys((await (await fetch(`${h.sims[1]!.url}/history/${job.promptId}`)).json()) as object)).toHaveLength(0);
  }
}, 60_000);
