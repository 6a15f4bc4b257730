import { afterEach, expect, it } from '@jest/globals';
import { prepareGeneration } from '../../src/generation/prepare.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { NoEligibleHostError } from '../../src/errors.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startFleetHarness, type FleetHarness } from '../helpers/fleet-harness.js';
import { slowPrompt } from '../helpers/prompts.js';
import { until } from '../helpers/wait.js';

/**
 * Hosts of different shapes (the simulator's own checkpoint sets and missing node classes): a
 * host that lacks a job's model or node class is never chosen, however idle it is, and a host
 * that comes back from a restart with another model set is judged by its new catalog.
 */

let h: FleetHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const A = 'sd15-random.safetensors';
const B = 'v1-5-pruned-emaonly.safetensors';
const sd15 = (checkpoint: string): GenerateRequest => ({ prompt: 'a fox', checkpoint, width: 64, height: 64, steps: 2 }) as GenerateRequest;

it('a host lacking the model or a node class is never chosen, even idle while the others queue', async () => {
  h = await startFleetHarness([
    { sim: { checkpoints: [A] } },
    { sim: { checkpoints: [B], omitNodes: ['HarnessSlowProgress'] } },
    { sim: { checkpoints: [A, B] } },
  ]);
  const submit = async (ckpt: string) => {
    const prepared = await prepareGeneration(h!.fleet, sd15(ckpt));
    return h!.fleet.submit(prepared.prompt, { workflow: prepared.templateName, download: false });
  };
  // Twelve of each checkpoint at once: A may go to gpu-1 and gpu-3 only, B to gpu-2 and gpu-3 only.
  const jobs = await Promise.all([...Array(12).fill(A), ...Array(12).fill(B)].map((c: string) => submit(c)));
  const ends = await Promise.all(jobs.map((j) => j.done));
  const hostsFor = (ckpt: string) => new Set(ends.filter((_, i) => (i < 12 ? A : B) === ckpt).map((s) => s.host));
  expect(ends.every((s) => s.status === 'success')).toBe(true);
  // Never elsewhere (how the jobs spread over the two that can run them depends on timing).
  for (const host of hostsFor(A)) expect(['gpu-1', 'gpu-3']).toContain(host);
  for (const host of hostsFor(B)) expect(['gpu-2', 'gpu-3']).toContain(host);
  // The node class: never gpu-2, even with gpu-1 and gpu-3 busy.
  const slow = await Promise.all(Array.from({ length: 8 }, () => h!.fleet.submit(slowPrompt(3, 20))));
  const slowHosts = (await Promise.all(slow.map((j) => j.done))).map((s) => s.host);
  expect(slowHosts).not.toContain('gpu-2');
  expect(new Set(slowHosts)).toEqual(new Set(['gpu-1', 'gpu-3']));
  // Pinned to a host that lacks the class: refused before anything is sent, saying why.
  await expect(h.fleet.submit(slowPrompt(1, 1), { host: 'gpu-2' })).rejects.toThrow(
    'The pinned host gpu-2 cannot run this prompt: it lacks node class HarnessSlowProgress.',
  );
}, 60_000);

it('a model no host has is refused with each host and what it lacks; nothing reaches any host', async () => {
  h = await startFleetHarness([{ sim: { checkpoints: [A] } }, { sim: { checkpoints: [A] } }]);
  const prepared = await prepareGeneration(h.fleet, sd15(A));
  const ckpt = Object.values(prepared.prompt).find((n) => n.class_type === 'CheckpointLoaderSimple')!;
  ckpt.inputs['ckpt_name'] = 'sdxl_base.safetensors';
  const refused = h.fleet.submit(prepared.prompt);
  await expect(refused).rejects.toBeInstanceOf(NoEligibleHostError);
  await expect(refused).rejects.toThrow('No ComfyUI host can run this prompt: gpu-1 lacks model sdxl_base.safetensors; gpu-2 lacks model sdxl_base.safetensors.');
  for (const sim of h.sims) expect(((await (await fetch(`${sim.url}/history`)).json()) as object)).toEqual({});
});

it('a host that restarts with another model set is judged by its new catalog', async () => {
  h = await startFleetHarness([{ sim: { checkpoints: [A] } }, { sim: { checkpoints: [A] } }]);
  const b = async () => {
    const prepared = await prepareGeneration(h!.fleet, sd15(A));
    const ckpt = Object.values(prepared.prompt).find((n) => n.class_type === 'CheckpointLoaderSimple')!;
    ckpt.inputs['ckpt_name'] = B;
    return prepared.prompt;
  };
  await expect(h.fleet.submit(await b())).rejects.toThrow(/gpu-2 lacks model v1-5-pruned-emaonly\.safetensors/);
  // gpu-2 restarts with B installed (same address).
  const port = h.sims[1]!.port;
  await h.sims[1]!.close();
  await until(() => h!.fleet.host('gpu-2')!.engine.connection.state !== 'open');
  h.sims[1] = await startSimulator({ port, stepDelayMs: 5, checkpoints: [A, B] });
  await until(() => {
    const read = h!.fleet.host('gpu-2')!.catalog.peek();
    return read?.ok === true && read.catalog.models.has(B);
  }, 20_000);
  const job = await h.fleet.submit(await b());
  expect(await job.done).toMatchObject({ status: 'success', host: 'gpu-2' });
}, 40_000);

it('a host measures what a checkpoint switch costs it (the simulator loads a new checkpoint in 400 ms)', async () => {
  h = await startFleetHarness([{ sim: { modelLoadMs: 400 } }, {}]);
  const run = async (ckpt: string) => {
    const prepared = await prepareGeneration(h!.fleet, sd15(ckpt));
    return (await h!.fleet.submit(prepared.prompt, { workflow: prepared.templateName, host: 'gpu-1', download: false })).done;
  };
  // The first run loads A (and seeds the average); A again is the baseline; B and A again are switches.
  for (const c of [A, A, A, B, A]) expect((await run(c)).status).toBe('success');
  const load = h.fleet.host('gpu-1')!.load;
  expect(load.loadedCheckpoint).toBe(A);
  expect(load.modelSwitchSeconds()).toBeGreaterThanOrEqual(0.3);
  expect(load.modelSwitchSeconds()).toBeLessThan(5);
  expect(h.fleet.host('gpu-2')!.load.modelSwitchSeconds()).toBeUndefined();
  expect(h.sims[0]!.loadedCheckpoint()).toBe(A);
}, 40_000);
