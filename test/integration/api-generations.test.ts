import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { foreignJob } from '../../src/mcp/foreign-job.js';
import { startSimulator, type SimApi, type Simulator } from '../../src/simulator/index.js';
import { RESTARTED } from '../../streams/resync.js';
import { startHarness, stateWhere, type Harness } from '../helpers/engine-harness.js';
import { postForeignPrompt, slowPrompt } from '../helpers/prompts.js';
import { until } from '../helpers/wait.js';

/**
 * comfywire against both ComfyUI API generations the simulator serves (docs/comfyui-api-generations.md):
 * on 'latest' it finds the jobs API once per connection and uses GET /api/jobs/{id} (a finished job
 * told apart from an unknown one) and POST /api/jobs/{id}/cancel; on '0.3.64' it keeps /queue,
 * /history, /queue delete and /interrupt with the prompt_id. The outcomes are the same on both.
 */

let h: Harness | undefined;
let extra: Simulator | undefined;
afterEach(async () => {
  jest.restoreAllMocks();
  await h?.close();
  await extra?.close();
  h = extra = undefined;
});

async function runningPrompt(sim: Simulator, id: string): Promise<{ release(): void }> {
  const hold = sim.faults.holdStep({ promptId: id, nodeId: '1', value: 2 });
  await hold.reached;
  return hold;
}

describe.each<[SimApi, boolean]>([['0.3.64', false], ['latest', true]])('api %s', (api, jobsApi) => {
  it(`detects the jobs API (${jobsApi}) once per connection`, async () => {
    h = await startHarness({ api });
    const probe = jest.spyOn(h.engine.client as any, 'probeJobsApi');
    expect(await h.engine.client.hasJobsApi()).toBe(jobsApi);
    expect(await h.engine.client.hasJobsApi()).toBe(jobsApi);
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it('detects it again after a reconnect to a server of the other generation on the same URL', async () => {
    h = await startHarness({ api });
    await until(() => h!.engine.connection.state === 'open');
    expect(await h.engine.client.hasJobsApi()).toBe(jobsApi);
    const reconnected = firstValueFrom(h.engine.connection.reconnected$);
    const port = h.sim.port;
    await h.sim.close();
    // An upgrade (or a downgrade) behind the same address.
    extra = await startSimulator({ port, stepDelayMs: 5, api: jobsApi ? '0.3.64' : 'latest' });
    await reconnected;
    expect(await h.engine.client.hasJobsApi()).toBe(!jobsApi);
    // And the engine still runs jobs there.
    const job = await h.engine.submit(slowPrompt(2, 1));
    expect((await job.done).status).toBe('success');
  });

  it('foreign status: queued, running, finished and unknown', async () => {
    h = await startHarness({ api });
    const getJob = jest.spyOn(h.engine.client, 'getJob');
    const getHistory = jest.spyOn(h.engine.client, 'getHistory');
    const done = await postForeignPrompt(h.sim.url);
    await until(async () => (await foreignJob(h!.engine.comfy, done))?.state.status === 'success');
    const finished = await foreignJob(h.engine.comfy, done, h.outputDir);
    expect(finished?.state).toMatchObject({ status: 'success' });
    expect(Object.keys(finished!.state.outputs)).toEqual(['2']);

    const res = await fetch(`${h.sim.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: slowPrompt(10, 1) }) });
    const running = ((await res.json()) as { prompt_id: string }).prompt_id;
    const hold = await runningPrompt(h.sim, running);
    const queued = await postForeignPrompt(h.sim.url);
    expect((await foreignJob(h.engine.comfy, running))?.state.status).toBe('running');
    expect((await foreignJob(h.engine.comfy, queued))?.state).toMatchObject({ status: 'queued', queuePosition: 1 });
    expect(await foreignJob(h.engine.comfy, '00000000-0000-4000-8000-000000000000')).toBeUndefined();
    hold.release();
    // Which route told finished and unknown apart: /api/jobs/{id} where it exists, /history/{id} where not.
    if (jobsApi) {
      expect(getJob).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000000');
      expect(getHistory).not.toHaveBeenCalled();
    } else {
      expect(getJob).not.toHaveBeenCalled();
      expect(getHistory).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000000');
    }
  });

  it('cancels a queued job (dequeued) and a running one (interrupted), with the targeted route where present', async () => {
    h = await startHarness({ api });
    const cancelJob = jest.spyOn(h.engine.client, 'cancelJob');
    const deleteFromQueue = jest.spyOn(h.engine.client, 'deleteFromQueue');
    const interrupt = jest.spyOn(h.engine.client, 'interrupt');
    const running = await h.engine.submit(slowPrompt(10, 1));
    const hold = await runningPrompt(h.sim, running.promptId);
    const queued = await h.engine.submit(slowPrompt(2, 1));
    await stateWhere(queued, (s) => s.queuePosition !== undefined);

    expect(await h.engine.cancel(queued.promptId)).toBe('dequeued');
    expect((await queued.done).status).toBe('cancelled');
    expect(await h.engine.cancel(running.promptId)).toBe('interrupted');
    hold.release();
    expect((await running.done).status).toBe('interrupted');
    expect(await h.engine.cancel('00000000-0000-4000-8000-000000000000')).toBe('unknown');

    const targeted = await Promise.all(cancelJob.mock.results.map((r) => r.value));
    if (jobsApi) {
      expect(targeted).toEqual([true, true, false]);
      expect(deleteFromQueue).not.toHaveBeenCalled();
      expect(interrupt).not.toHaveBeenCalled();
    } else {
      // Asked once on this connection, then known absent: no second POST to a missing route.
      expect(targeted).toEqual([undefined, undefined, undefined]);
      expect(deleteFromQueue).toHaveBeenCalledWith([queued.promptId]);
      expect(interrupt).toHaveBeenCalledWith(running.promptId);
    }
    // The engine keeps serving.
    expect((await (await h.engine.submit(slowPrompt(2, 1))).done).status).toBe('success');
  });

  it('resync after a dropped socket: a job that finished meanwhile settles with its outputs', async () => {
    h = await startHarness({ api });
    const getJob = jest.spyOn(h.engine.client, 'getJob');
    const job = await h.engine.submit(slowPrompt(10, 1));
    const hold = await runningPrompt(h.sim, job.promptId);
    // No socket until the job is over: its end can only be learnt by the resync.
    h.sim.faults.stallSockets();
    h.sim.faults.dropSockets();
    await until(() => h!.engine.connection.state !== 'open');
    hold.release();
    await until(async () => (await fetch(`${h!.sim.url}/history/${job.promptId}`).then((r) => r.json()) as Record<string, unknown>)[job.promptId] !== undefined);
    h.sim.faults.unstallSockets();
    const end = await job.done;
    expect(end.status).toBe('success');
    expect(Object.keys(end.outputs)).toEqual(['2']);
    expect(getJob.mock.calls.map(([id]) => id).includes(job.promptId)).toBe(jobsApi);
  });

  it('resync after a restart: the running and the queued job end lost, saying ComfyUI restarted', async () => {
    h = await startHarness({ api });
    const getJob = jest.spyOn(h.engine.client, 'getJob');
    const running = await h.engine.submit(slowPrompt(10, 1));
    await runningPrompt(h.sim, running.promptId);
    const queued = await h.engine.submit(slowPrompt(2, 1));
    await h.sim.faults.restart();
    expect(await running.done).toMatchObject({ status: 'lost', lostReason: RESTARTED });
    // The queued one is found gone by the resync or by the queue refresh, whichever looks first: both say why.
    expect(await queued.done).toMatchObject({ status: 'lost', lostReason: expect.stringMatching(/ComfyUI (was probably )?restarted/) });
    if (jobsApi) expect(getJob).toHaveBeenCalledWith(running.promptId);
    else expect(getJob).not.toHaveBeenCalled();
  });
});
