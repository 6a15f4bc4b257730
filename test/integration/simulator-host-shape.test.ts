import { ConfigInvalidError } from '../../src/errors.js';
import { SIMULATOR_CHECKPOINTS, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { advance, advanceUntil, closeOnFakeClock, untilReal, useFakeClock } from '../helpers/fake-clock.js';
import { RecordingClient } from '../helpers/transcript.js';

/**
 * Simulated hosts of different shapes (issue 11): their own model set, a missing node class, and
 * the cost of switching checkpoints. Each answer is the one a real ComfyUI 0.3.64 gives (the
 * transcripts f_validation_errors f2 and k2_missing_checkpoint).
 */

const sd15 = (ckpt: string, seed = 1): Record<string, unknown> => ({
  3: { class_type: 'KSampler', inputs: { seed, steps: 2, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: ckpt } },
  5: { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
  6: { class_type: 'CLIPTextEncode', inputs: { text: 'a fox', clip: ['4', 1] } },
  7: { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
  8: { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  9: { class_type: 'PreviewImage', inputs: { images: ['8', 0] } },
});

const TEXT = { 1: { class_type: 'HarnessText', inputs: { text: 'hi' } } };

async function post(sim: Simulator, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sim.url}/prompt`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

const getJson = async (sim: Simulator, path: string): Promise<any> => (await fetch(`${sim.url}${path}`)).json();

describe('simulator host shape: checkpoints', () => {
  let sim: Simulator;
  beforeAll(async () => { sim = await startSimulator({ stepDelayMs: 0, checkpoints: ['sdxl_base.safetensors', 'flux-dev.safetensors'] }); });
  afterAll(async () => { await sim.close(); });

  it('lists its own set in /models/checkpoints and in the ckpt_name combo of /object_info', async () => {
    expect(await getJson(sim, '/models/checkpoints')).toEqual(['sdxl_base.safetensors', 'flux-dev.safetensors']);
    const info = await getJson(sim, '/object_info/CheckpointLoaderSimple');
    expect(info.CheckpointLoaderSimple.input.required.ckpt_name[0]).toEqual(['sdxl_base.safetensors', 'flux-dev.safetensors']);
  });

  it('refuses a checkpoint outside its set with value_not_in_list listing the set (k2), and runs one in it', async () => {
    const refused = await post(sim, { prompt: sd15(SIMULATOR_CHECKPOINTS[0]) });
    expect(refused.status).toBe(400);
    expect(refused.json.error.type).toBe('prompt_outputs_failed_validation');
    const problem = refused.json.node_errors['4'].errors[0];
    expect(problem.type).toBe('value_not_in_list');
    expect(problem.details).toBe(`ckpt_name: '${SIMULATOR_CHECKPOINTS[0]}' not in ['sdxl_base.safetensors', 'flux-dev.safetensors']`);
    expect(problem.extra_info.input_config[0]).toEqual(['sdxl_base.safetensors', 'flux-dev.safetensors']);

    const client = await RecordingClient.connect(sim.url, 'ckpt');
    const accepted = await post(sim, { prompt: sd15('flux-dev.safetensors'), client_id: 'ckpt' });
    expect(accepted.status).toBe(200);
    await client.waitForType('execution_success');
    expect(sim.loadedCheckpoint()).toBe('flux-dev.safetensors');
    await client.close();
  });

  it('keeps the default set when none is given', async () => {
    const plain = await startSimulator({ stepDelayMs: 0 });
    try {
      expect(await getJson(plain, '/models/checkpoints')).toEqual([...SIMULATOR_CHECKPOINTS]);
    } finally {
      await plain.close();
    }
  });
});

describe('simulator host shape: omitNodes', () => {
  let sim: Simulator;
  beforeAll(async () => { sim = await startSimulator({ stepDelayMs: 0, omitNodes: ['HarnessText'] }); });
  afterAll(async () => { await sim.close(); });

  it('leaves the class out of /object_info', async () => {
    const all = await getJson(sim, '/object_info');
    expect(all.HarnessText).toBeUndefined();
    expect(all.PreviewImage).toBeDefined();
    expect(await getJson(sim, '/object_info/HarnessText')).toEqual({});
  });

  it('refuses a prompt using it as a real server refuses a class it does not know (f2), and still serves others', async () => {
    const refused = await post(sim, { prompt: TEXT });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({
      error: { type: 'invalid_prompt', message: 'Cannot execute because node HarnessText does not exist.', details: "Node ID '#1'", extra_info: {} },
      node_errors: {},
    });
    expect((await getJson(sim, '/queue')).queue_pending).toEqual([]);
    const other = await post(sim, { prompt: { 1: { class_type: 'HarnessSlowProgress', inputs: { steps: 1, delay_ms: 0 } }, 2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } } });
    expect(other.status).toBe(200);
  });

  it('a host without the option has the class', async () => {
    const plain = await startSimulator({ stepDelayMs: 0 });
    try {
      expect((await post(plain, { prompt: TEXT })).status).toBe(200);
    } finally {
      await plain.close();
    }
  });

  it('refuses to start when told to omit a class it does not have, or with a negative load time', async () => {
    await expect(startSimulator({ omitNodes: ['NoSuchNode'] })).rejects.toThrow(ConfigInvalidError);
    await expect(startSimulator({ omitNodes: ['NoSuchNode'] })).rejects.toThrow(/NoSuchNode/);
    await expect(startSimulator({ modelLoadMs: -1 })).rejects.toThrow(ConfigInvalidError);
  });
});

describe('simulator host shape: modelLoadMs on the simulator clock', () => {
  const LOAD_MS = 4_000;
  const [A, B] = SIMULATOR_CHECKPOINTS;
  let sim: Simulator;
  let client: RecordingClient;

  beforeEach(async () => {
    useFakeClock();
    sim = await startSimulator({ stepDelayMs: 0, historyWriteDelayMs: 0, modelLoadMs: LOAD_MS });
    client = await RecordingClient.connect(sim.url, 'load');
  });
  afterEach(async () => {
    await closeOnFakeClock(client.close(), sim.close());
  });

  const count = (type: string): number => client.lines.filter((l) => l === type || l.startsWith(`${type}(`)).length;

  /**
   * Posts a prompt and moves the clock until its run starts; returns the fake time the run started
   * (execution_start's timestamp). The nodes before the loader take no time, so that is also when
   * the load began.
   */
  async function startRun(prompt: Record<string, unknown>): Promise<number> {
    const starts = count('execution_start');
    const posted = post(sim, { prompt, client_id: 'load' });
    await advanceUntil(() => count('execution_start') > starts, 5_000, { stepMs: 5 });
    expect((await posted).status).toBe(200);
    const frame = client.frames.filter((f): f is { type: string; data: Record<string, unknown> } => !Buffer.isBuffer(f) && f.type === 'execution_start').at(-1);
    return frame!.data.timestamp as number;
  }

  /** Moves the clock to exactly `t` (fake ms), with real I/O between steps. */
  async function advanceTo(t: number): Promise<void> {
    expect(Date.now()).toBeLessThanOrEqual(t);
    await advance(t - Date.now(), { stepMs: 100 });
    expect(Date.now()).toBe(t);
  }

  it('a checkpoint other than the loaded one holds its loader modelLoadMs; the same one again costs nothing', async () => {
    const successes = count('execution_success');
    const t0 = await startRun(sd15(A, 1));
    await advanceTo(t0 + LOAD_MS - 1);
    // Just before: still loading, so nothing after the loader has run.
    expect(sim.loadedCheckpoint()).toBeUndefined();
    expect(client.lines.some((l) => l.startsWith('executing(node=3'))).toBe(false);
    expect(count('execution_success')).toBe(successes);
    await advanceTo(t0 + LOAD_MS);
    expect(sim.loadedCheckpoint()).toBe(A);
    // At the delay: the rest of the graph needs no more time (step delay 0).
    await untilReal(() => count('execution_success') > successes);
    expect(Date.now()).toBe(t0 + LOAD_MS);

    // The same checkpoint, another seed: the loader's output is reused, the run needs no clock.
    await advanceUntil(() => client.lines.at(-1) === 'executing(node=null)', 1_000, { stepMs: 5 });
    await startRun(sd15(A, 2));
    const at = Date.now();
    await untilReal(() => count('execution_success') > successes + 1);
    expect(Date.now()).toBe(at);
  });

  it('switching back and forth pays each switch; unload_models drops the held one', async () => {
    const successes = count('execution_success');
    const t0 = await startRun(sd15(A, 1));
    await advanceTo(t0 + LOAD_MS);
    await untilReal(() => count('execution_success') > successes);
    await advanceUntil(() => client.lines.at(-1) === 'executing(node=null)', 1_000, { stepMs: 5 });

    const t1 = await startRun(sd15(B, 1));
    await advanceTo(t1 + LOAD_MS - 1);
    expect(sim.loadedCheckpoint()).toBe(A);
    expect(count('execution_success')).toBe(successes + 1);
    await advanceTo(t1 + LOAD_MS);
    expect(sim.loadedCheckpoint()).toBe(B);
    await untilReal(() => count('execution_success') > successes + 1);
    await advanceUntil(() => client.lines.at(-1) === 'executing(node=null)', 1_000, { stepMs: 5 });

    const freed = fetch(`${sim.url}/free`, { method: 'POST', body: JSON.stringify({ unload_models: true }) });
    await untilReal(async () => sim.loadedCheckpoint() === undefined);
    expect((await freed).status).toBe(200);
  });
});
