import { existsSync, statSync } from 'node:fs';
import sharp from 'sharp';
import { ComfyAuthRefusedError, ComfyUnreachableError, PromptRejectedError } from '../../src/errors.js';
import { prepareGeneration } from '../../src/generation/prepare.js';
import type { ApiPrompt } from '../../src/comfy/types.js';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { slowPrompt } from '../helpers/prompts.js';
import { startHarness, stateWhere, until, type Harness } from '../helpers/engine-harness.js';

/**
 * The event engine against the simulator over real loopback HTTP and WebSocket: every way a
 * prompt's life can go, as the engine's job state and downloaded files show it.
 */

describe('engine against the simulator', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('runs the shipped SD 1.5 template: live progress, success, a real PNG downloaded', async () => {
    const prepared = await prepareGeneration(h.engine, { prompt: 'a lighthouse at dusk', seed: 7, steps: 8, width: 128, height: 96 });
    const job = await h.engine.submit(prepared.prompt, { workflow: prepared.templateName });
    const steps = new Set<string>();
    job.states$.subscribe((s) => {
      const k = s.nodes['3'];
      if (s.status === 'running' && k && k.max === 8) steps.add(`${k.value}/${k.max}`);
    });
    const final = await job.done;
    expect(final.status).toBe('success');
    expect(final.queueNumber).toEqual(expect.any(Number));
    expect(steps.has('8/8')).toBe(true);
    expect(steps.size).toBeGreaterThanOrEqual(4);
    expect(final.downloads).toHaveLength(1);
    const file = final.downloads[0]!;
    expect(file.path.startsWith(h.outputDir)).toBe(true);
    const meta = await sharp(file.path).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 128, 96]);
    expect(statSync(file.path).size).toBe(file.bytes);
  });

  it('a cached resubmit succeeds with every node cached and still reports and downloads the outputs', async () => {
    const prepared = await prepareGeneration(h.engine, { prompt: 'cache me', seed: 11, steps: 2, width: 64, height: 64 });
    const first = await (await h.engine.submit(prepared.prompt)).done;
    const again = await (await h.engine.submit(prepared.prompt)).done;
    expect(first.status).toBe('success');
    expect(again.status).toBe('success');
    expect(again.cachedNodes.sort()).toEqual(Object.keys(prepared.prompt).sort());
    expect(again.files.map((f) => f.filename)).toEqual(first.files.map((f) => f.filename));
    expect(again.downloads).toHaveLength(1);
  });

  it('a partially cached run re-executes only what changed', async () => {
    const prepared = await prepareGeneration(h.engine, { prompt: 'partial', seed: 12, steps: 2, width: 64, height: 64 });
    await (await h.engine.submit(prepared.prompt)).done;
    const changed = structuredClone(prepared.prompt);
    changed['9']!.inputs['filename_prefix'] = 'comfywire/partial';
    const s = await (await h.engine.submit(changed)).done;
    expect(s.status).toBe('success');
    expect(s.cachedNodes).toEqual(expect.arrayContaining(['3', '4', '8']));
    expect(s.cachedNodes).not.toContain('9');
    expect(s.files[0]!.filename).toMatch(/^partial_\d{5}_\.png$/);
  });

  it('an execution error ends the job with node, class, exception and traceback', async () => {
    h.sim.faults.failNode({ classType: 'HarnessSlowProgress' }, 'boom from the test');
    try {
      const s = await (await h.engine.submit(slowPrompt(2))).done;
      expect(s.status).toBe('error');
      expect(s.error).toMatchObject({ nodeId: '1', classType: 'HarnessSlowProgress', exceptionType: 'RuntimeError' });
      expect(s.error!.exceptionMessage).toContain('boom from the test');
      expect(s.error!.traceback.length).toBeGreaterThan(0);
      expect(s.downloads).toEqual([]);
    } finally {
      h.sim.faults.clearNodeFaults();
    }
  });

  it('an ExecutionBlocked error is not the end: the blocked branch is skipped and the job succeeds', async () => {
    h.sim.faults.blockNode({ nodeId: '4' }, 'nothing to do here');
    try {
      const blockedErrors: string[] = [];
      const sub = h.engine.connection.events$.subscribe((e) => {
        if (e.type === 'execution_error') blockedErrors.push(e.data.exception_type);
      });
      const job = await h.engine.submit({
        '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 101 } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'kept' } },
        '3': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 102 } },
        '4': { class_type: 'ImageInvert', inputs: { image: ['3', 0] } },
        '5': { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'skipped' } },
      });
      const s = await job.done;
      sub.unsubscribe();
      expect(blockedErrors).toEqual(['ExecutionBlocked']);
      expect(s.status).toBe('success');
      expect(s.error).toBeUndefined();
      expect(s.files.map((f) => f.filename)).toEqual([expect.stringMatching(/^kept_/)]);
      const history = await h.engine.client.getHistory(job.promptId);
      expect(history!.status.messages.map((m) => m[0])).not.toContain('execution_error');
    } finally {
      h.sim.faults.clearNodeFaults();
    }
  });

  it('cancel interrupts a running prompt', async () => {
    const job = await h.engine.submit(slowPrompt(200, 20));
    await stateWhere(job, (s) => (s.nodes['1']?.value ?? 0) >= 2);
    expect(await h.engine.cancel(job.promptId)).toBe('interrupted');
    const s = await job.done;
    expect(s.status).toBe('interrupted');
    expect(s.interrupted).toMatchObject({ id: '1', classType: 'HarnessSlowProgress' });
  });

  it('two queued prompts: the second knows its place, and cancel takes it out of the queue', async () => {
    h.sim.faults.pauseWorker();
    try {
      const a = await h.engine.submit(slowPrompt(2));
      const b = await h.engine.submit(slowPrompt(2));
      const c = await h.engine.submit(slowPrompt(2));
      await stateWhere(c, (s) => s.queuePosition === 2);
      expect(b.state.queuePosition).toBe(1);
      expect(await h.engine.cancel(b.promptId)).toBe('dequeued');
      expect((await b.done).status).toBe('cancelled');
      h.sim.faults.resumeWorker();
      const [sa, sc] = await Promise.all([a.done, c.done]);
      expect([sa.status, sc.status]).toEqual(['success', 'success']);
      expect(sa.startedAt!).toBeLessThanOrEqual(sc.startedAt!);
    } finally {
      h.sim.faults.resumeWorker();
    }
  });

  it('front of queue: a prompt submitted with front runs before earlier pending ones', async () => {
    h.sim.faults.pauseWorker();
    const normal = await h.engine.submit(slowPrompt(1));
    const urgent = await h.engine.submit(slowPrompt(1), { front: true });
    h.sim.faults.resumeWorker();
    const [n, u] = await Promise.all([normal.done, urgent.done]);
    expect(u.queueNumber!).toBeLessThan(0);
    expect(u.startedAt!).toBeLessThanOrEqual(n.startedAt!);
  });

  it('malformed frames mid-run are dropped and the job goes on', async () => {
    const job = await h.engine.submit(slowPrompt(20, 10));
    await stateWhere(job, (s) => (s.nodes['1']?.value ?? 0) >= 2);
    h.sim.faults.sendRawFrame('{not json');
    h.sim.faults.sendRawFrame(JSON.stringify({ type: 'progress', data: { value: 'x' } }));
    h.sim.faults.sendRawFrame(JSON.stringify({ data: {} }));
    h.sim.faults.sendRawFrame(Buffer.from([0, 0, 0, 9, 1, 2]));
    h.sim.faults.sendRawFrame(JSON.stringify({ type: 'crystools.monitor', data: { cpu: 3 } }));
    const s = await job.done;
    expect(s.status).toBe('success');
    expect(h.engine.connection.state).toBe('open');
  });

  it('a validation 400 is a PromptRejectedError per node and input, and nothing stays tracked', async () => {
    const prompt = structuredClone((await prepareGeneration(h.engine, { prompt: 'x', seed: 1 })).prompt);
    prompt['4']!.inputs['ckpt_name'] = 'missing-model.safetensors';
    const err = await h.engine.submit(prompt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptRejectedError);
    const rejected = err as PromptRejectedError;
    expect(rejected.problems[0]).toMatchObject({ nodeId: '4', inputName: 'ckpt_name', type: 'value_not_in_list' });
    expect(h.engine.jobs.activeCount).toBe(0);
  });

  it('a 200 with node_errors is treated as a rejection and the half-valid prompt is withdrawn', async () => {
    const prompt: ApiPrompt = {
      ...slowPrompt(30, 20),
      '3': { class_type: 'SaveImage', inputs: { filename_prefix: 'x' } }, // images missing -> invalid output
    };
    const err = await h.engine.submit(prompt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptRejectedError);
    expect((err as PromptRejectedError).problems.some((p) => p.nodeId === '3')).toBe(true);
    const queue = await h.engine.client.getQueue();
    await until(async () => (await h.engine.client.getQueue()).running.length === 0);
    expect(queue.pending).toHaveLength(0);
    expect(h.engine.jobs.activeCount).toBe(0);
    const withdrawn = (err as PromptRejectedError).context['promptId'] as string;
    expect(h.engine.jobs.get(withdrawn)).toBeUndefined();
  });
});

describe('engine: previews', () => {
  it('with previews on, sampler preview frames (type 4, negotiated) are attributed to the job', async () => {
    const h = await startHarness({ previewMethod: 'auto' });
    try {
      const prepared = await prepareGeneration(h.engine, { prompt: 'previews', seed: 5, steps: 4, width: 64, height: 64 });
      const s = await (await h.engine.submit(prepared.prompt)).done;
      expect(s.status).toBe('success');
      expect(s.previews).toBe(4);
    } finally {
      await h.close();
    }
  });
});

describe('engine: socket trouble', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({}, { COMFYWIRE_STALL_TIMEOUT_MS: '400', COMFYWIRE_PING_INTERVAL_MS: '100' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('a dropped socket mid-run reconnects with the same client id and the job still completes', async () => {
    const job = await h.engine.submit(slowPrompt(40, 20));
    await stateWhere(job, (s) => (s.nodes['1']?.value ?? 0) >= 3);
    h.sim.faults.dropSockets();
    const s = await job.done;
    expect(s.status).toBe('success');
    expect(s.downloads.length).toBe(1);
  });

  it('after a reconnect, the bare `executing` ComfyUI sends names the node our running job is on', async () => {
    const job = await h.engine.submit({
      '1': { class_type: 'HarnessSlowProgress', inputs: { steps: 3, delay_ms: 10, nonce: 4242 }, _meta: { title: 'First' } },
      '2': { class_type: 'HarnessSlowProgress', inputs: { steps: 80, delay_ms: 20, image: ['1', 0] }, _meta: { title: 'Second' } },
      '3': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
    });
    await stateWhere(job, (s) => s.currentNode?.id === '1');
    h.sim.faults.stallSockets();
    // Node 2 starts while we hear nothing; its `executing` is lost with the stalled socket.
    await until(() => h.engine.connection.state === 'reconnecting');
    expect(job.state.currentNode?.id).toBe('1');
    h.sim.faults.unstallSockets();
    const on2 = await stateWhere(job, (s) => s.currentNode?.id === '2');
    expect(on2.currentNode).toEqual({ id: '2', classType: 'HarnessSlowProgress', title: 'Second' });
    expect(on2.status).toBe('running');
    await h.engine.cancel(job.promptId);
    await job.done;
  });

  it('a prompt that finished while the socket was stalled is completed from history after the reconnect', async () => {
    const job = await h.engine.submit(slowPrompt(10, 10));
    await stateWhere(job, (s) => s.status === 'running');
    h.sim.faults.stallSockets();
    await until(async () => (await h.engine.client.getHistory(job.promptId)) !== undefined);
    // The simulator drops what it would have sent to a stalled socket; reconnecting is what
    // brings the engine back, so let the stall watch notice first.
    await until(() => h.engine.connection.state === 'reconnecting');
    h.sim.faults.unstallSockets();
    const s = await job.done;
    expect(s.status).toBe('success');
    expect(s.files.length).toBe(1);
    expect(s.downloads.length).toBe(1);
    expect(existsSync(s.downloads[0]!.path)).toBe(true);
  });

  it('a ComfyUI restart that lost the queue ends the job as lost, with the reason', async () => {
    const job = await h.engine.submit(slowPrompt(200, 20));
    await stateWhere(job, (s) => s.status === 'running');
    await h.sim.faults.restart();
    const s = await job.done;
    expect(s.status).toBe('lost');
    expect(s.lostReason).toMatch(/restarted/);
  });
});

describe('engine: cannot reach ComfyUI', () => {
  it('nothing listening: ComfyUnreachableError naming the URL', async () => {
    const config = loadConfig({}, { overrides: { COMFYUI_URL: 'http://127.0.0.1:9', COMFYWIRE_REQUEST_TIMEOUT_MS: '1000', COMFYWIRE_FEED: 'off' } });
    const engine = new Engine({ config, logger: silentLogger() });
    try {
      const err = await engine.submit(slowPrompt(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ComfyUnreachableError);
      expect((err as Error).message).toContain('http://127.0.0.1:9');
    } finally {
      await engine.close();
    }
  });

  it('a proxy answering 401: ComfyAuthRefusedError with the auth hint; with the right token it works', async () => {
    const denied = await startHarness({ authProxy: { header: 'authorization', value: 'Bearer sesame' } });
    try {
      const err = await denied.engine.submit(slowPrompt(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ComfyAuthRefusedError);
      expect((err as ComfyAuthRefusedError).hint).toContain('COMFYUI_AUTH_TOKEN');
    } finally {
      await denied.close();
    }
    const allowed = await startHarness({ authProxy: { header: 'authorization', value: 'Bearer sesame' } }, { COMFYUI_AUTH_TOKEN: 'sesame' });
    try {
      expect((await (await allowed.engine.submit(slowPrompt(1))).done).status).toBe('success');
    } finally {
      await allowed.close();
    }
  });
});
