import { afterEach, expect, it, jest } from '@jest/globals';
import { startFleetHarness, type FleetHarness } from '../helpers/fleet-harness.js';
import { postForeignPrompt, slowPrompt } from '../helpers/prompts.js';
import { until } from '../helpers/wait.js';
import { foreignJobOnHosts } from '../../src/mcp/foreign-job.js';

/**
 * A fleet of two ComfyUI generations (docs/comfyui-api-generations.md): gpu-1 serves today's jobs
 * API, gpu-2 is 0.3.64. Each host's engine finds out for itself, and each job's cancel and each
 * foreign lookup goes the way its own host speaks.
 */

let h: FleetHarness | undefined;
afterEach(async () => {
  jest.restoreAllMocks();
  await h?.close();
  h = undefined;
});

it('each host is judged by its own generation: detection, cancel of a waiting job, a foreign prompt', async () => {
  h = await startFleetHarness([{ sim: { api: 'latest' } }, { sim: { api: '0.3.64' } }]);
  const [latest, old] = h.fleet.hosts.map((x) => x.engine.client);
  expect(await latest!.hasJobsApi()).toBe(true);
  expect(await old!.hasJobsApi()).toBe(false);

  const targeted = [jest.spyOn(latest!, 'cancelJob'), jest.spyOn(old!, 'cancelJob')];
  const deletes = [jest.spyOn(latest!, 'deleteFromQueue'), jest.spyOn(old!, 'deleteFromQueue')];
  for (const [i, host] of ['gpu-1', 'gpu-2'].entries()) {
    const running = await h.fleet.submit(slowPrompt(400, 20), { host });
    const waiting = await h.fleet.submit(slowPrompt(2, 10), { host });
    await until(() => running.state.status === 'running' && waiting.state.queueNumber !== undefined);
    expect(await h.fleet.cancel(waiting.promptId)).toBe('dequeued');
    expect(await waiting.done).toMatchObject({ status: 'cancelled', host });
    expect(await h.fleet.cancel(running.promptId)).toBe('interrupted');
    expect((await running.done).status).toBe('interrupted');
    // gpu-1 cancelled through POST /api/jobs/{id}/cancel, gpu-2 through /queue delete and /interrupt.
    expect(targeted[i]!.mock.results.map((r) => r.value)).not.toHaveLength(0);
  }
  expect(deletes[0]).not.toHaveBeenCalled();
  expect(deletes[1]).toHaveBeenCalled();
  expect(await Promise.all(targeted[0]!.mock.results.map((r) => r.value))).toEqual([true, true]);
  // The 0.3.64 host was asked once, answered 405/404, and is not asked again on this connection.
  expect(await Promise.all(targeted[1]!.mock.results.map((r) => r.value))).toEqual([undefined, undefined]);

  // Another client's prompts, one on each host, found where they are.
  const foreign = [await postForeignPrompt(h.sims[0]!.url), await postForeignPrompt(h.sims[1]!.url)];
  for (const [i, id] of foreign.entries()) {
    const found = await until(async () => (await foreignJobOnHosts(h!.fleet, id))?.state.status === 'success', 10_000).then(() => foreignJobOnHosts(h!.fleet, id));
    expect(found?.host.name).toBe(h.names[i]);
  }
  expect(await foreignJobOnHosts(h.fleet, '0f3c5a1e-1111-4222-8333-444455556666')).toBeUndefined();
}, 30_000);
