import { afterEach, expect, it } from '@jest/globals';
import { prepareGeneration } from '../../src/generation/prepare.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { NoEligibleHostError } from '../../src/errors.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { JobState } from '../../streams/job-state.js';
import { startFleetHarness, type FleetHarness } from '../helpers/fleet-harness.js';
import { slowPrompt } from '../helpers/prompts.js';
import { until } from '../helpers/wait.js';

/**
 * Dispatch over several simulators on loopback: where jobs go, and that each ran where its state
 * says (the host's own /history has it, the others' do not).
 */

let h: FleetHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The host whose simulator has this prompt in its history. */
async function ranOn(harness: FleetHarness, promptId: string): Promise<string[]> {
  const found: string[] = [];
  for (const [i, sim] of harness.sims.entries()) {
    const res = await fetch(`${sim.url}/history/${promptId}`);
    if (Object.keys((await res.json()) as object).length > 0) found.push(harness.names[i]!);
  }
  return found;
}

const sd15 = (checkpoint: string): GenerateRequest => ({ prompt: 'a lighthouse', checkpoint, width: 64, height: 64, steps: 2 }) as GenerateRequest;

it('a burst spreads evenly over equal hosts, each job runs where its state says, and says why it went there', async () => {
  h = await startFleetHarness([{}, {}]);
  const jobs = await Promise.all(Array.from({ length: 6 }, () => h!.fleet.submit(slowPrompt(3, 20))));
  const ends = await Promise.all(jobs.map((j) => j.done));
  expect(ends.map((s) => s.status)).toEqual(Array(6).fill('success'));
  const perHost = new Map<string, number>();
  for (const s of ends) perHost.set(s.host!, (perHost.get(s.host!) ?? 0) + 1);
  expect([...perHost.entries()].sort()).toEqual([['gpu-1', 3], ['gpu-2', 3]]);
  for (const s of ends) {
    expect(await ranOn(h, s.promptId)).toEqual([s.host]);
    expect(s.dispatch).toMatch(new RegExp(`^sent to ${s.host}: `));
  }
  expect(h.fleet.inFlight()).toEqual([]);
  expect(h.fleet.recent().length).toBe(6);
});

it('same checkpoint, same host: a job goes where its checkpoint is loaded, another checkpoint goes to the idle host without one', async () => {
  h = await startFleetHarness([{}, {}]);
  const run = async (ckpt: string): Promise<JobState> => {
    const prepared = await prepareGeneration(h!.fleet, sd15(ckpt));
    const job = await h!.fleet.submit(prepared.prompt, { workflow: prepared.templateName });
    return job.done;
  };
  const a1 = await run('sd15-random.safetensors');
  const b1 = await run('v1-5-pruned-emaonly.safetensors');
  expect(b1.host).not.toBe(a1.host);
  expect(b1.dispatch).not.toMatch(/loaded/);
  const a2 = await run('sd15-random.safetensors');
  const b2 = await run('v1-5-pruned-emaonly.safetensors');
  expect(a2.host).toBe(a1.host);
  expect(b2.host).toBe(b1.host);
  expect(a2.dispatch).toContain(`sent to ${a1.host}: it has sd15-random.safetensors loaded and an empty queue`);
  for (const s of [a1, b1, a2, b2]) expect(s.status).toBe('success');
});

it('a pinned host is honoured even when another is idle; an unknown one is refused naming the hosts', async () => {
  h = await startFleetHarness([{}, {}]);
  const jobs = await Promise.all([1, 2, 3].map(() => h!.fleet.submit(slowPrompt(2, 10), { host: 'gpu-2' })));
  for (const s of await Promise.all(jobs.map((j) => j.done))) {
    expect(s.host).toBe('gpu-2');
    expect(s.dispatch).toBe('pinned to gpu-2 by the caller');
    expect(await ranOn(h, s.promptId)).toEqual(['gpu-2']);
  }
  const refused = h.fleet.submit(slowPrompt(2, 10), { host: 'gpu-9' });
  await expect(refused).rejects.toBeInstanceOf(NoEligibleHostError);
  await expect(refused).rejects.toThrow('There is no ComfyUI host named "gpu-9"; the hosts are gpu-1, gpu-2.');
  expect((await (await h.fleet.submit(slowPrompt(1, 1))).done).status).toBe('success');
});

it('tags restrict the hosts; a tag no host carries is refused with each host and why', async () => {
  h = await startFleetHarness([{ tags: ['sdxl'] }, { tags: ['sd15', 'fast'] }, {}]);
  const jobs = await Promise.all([1, 2, 3, 4].map(() => h!.fleet.submit(slowPrompt(2, 10), { tags: ['fast'] })));
  for (const s of await Promise.all(jobs.map((j) => j.done))) expect(s.host).toBe('gpu-2');
  const refused = h.fleet.submit(slowPrompt(2, 10), { tags: ['video'] });
  await expect(refused).rejects.toThrow(
    'No ComfyUI host can run this prompt: gpu-1 not tagged video; gpu-2 not tagged video; gpu-3 not tagged video.',
  );
});

it('a host that goes down is passed over (and named down), and used again once it is back', async () => {
  h = await startFleetHarness([{}, {}]);
  await (await h.fleet.submit(slowPrompt(1, 1))).done;
  const port = h.sims[1]!.port;
  await h.sims[1]!.close();
  await until(() => h!.fleet.host('gpu-2')!.engine.connection.state !== 'open');
  const decision = h.fleet.decide({ needs: { nodeClasses: ['HarnessSlowProgress'], models: [], checkpoint: undefined }, workflow: '(prompt)' });
  expect(decision).toMatchObject({ ok: true, host: 'gpu-1' });
  const during = await Promise.all([1, 2, 3].map(() => h!.fleet.submit(slowPrompt(2, 10))));
  for (const s of await Promise.all(during.map((j) => j.done))) expect(s.host).toBe('gpu-1');
  expect(h.fleet.decide({ needs: { nodeClasses: ['X'], models: [], checkpoint: undefined }, workflow: 'w' })).toMatchObject({
    ok: false,
    rejected: [{ host: 'gpu-1', why: 'lacks node class X' }, { host: 'gpu-2', why: expect.stringMatching(/^down \((reconnecting|connecting)\)$/) }],
  });

  h.sims[1] = await startSimulator({ port, stepDelayMs: 5 });
  await until(() => h!.fleet.host('gpu-2')!.engine.connection.state === 'open', 20_000);
  const after = await Promise.all([1, 2, 3, 4].map(() => h!.fleet.submit(slowPrompt(2, 10))));
  const hosts = (await Promise.all(after.map((j) => j.done))).map((s) => s.host);
  expect(hosts.filter((x) => x === 'gpu-2').length).toBeGreaterThanOrEqual(2);
}, 40_000);

it('the job cap counts every host and the jobs still being placed: a burst of 8 with a cap of 3 queues exactly 3', async () => {
  h = await startFleetHarness([{}, {}], { COMFYWIRE_MAX_ACTIVE_JOBS: '3' });
  const tries = await Promise.allSettled(Array.from({ length: 8 }, () => h!.fleet.submit(slowPrompt(5, 20))));
  const ok = tries.filter((t): t is PromiseFulfilledResult<Awaited<ReturnType<FleetHarness['fleet']['submit']>>> => t.status === 'fulfilled');
  expect(ok).toHaveLength(3);
  for (const t of tries) if (t.status === 'rejected') expect((t.reason as Error).name).toBe('JobCapReachedError');
  await Promise.all(ok.map((t) => t.value.done));
  expect((await (await h.fleet.submit(slowPrompt(1, 1))).done).status).toBe('success');
});
