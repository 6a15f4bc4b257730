import { ComfyClient } from '../../src/comfy/client.js';
import { slowPrompt } from '../helpers/prompts.js';
import { within } from '../helpers/wait.js';
import { startHarness, stateWhere, until, type Harness } from '../helpers/engine-harness.js';

/**
 * Job lifecycle edges that a real ComfyUI produces and that end a job without any event of its
 * own on our socket: the job must still end, with a reason, instead of waiting forever.
 */

describe('engine: jobs that end without an event of their own', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    h.sim.faults.resumeWorker();
    await h.close();
  });

  it('a pending job deleted from the queue by another client (ComfyUI window, other tool) ends as lost, with the reason', async () => {
    h.sim.faults.pauseWorker();
    const job = await h.engine.submit(slowPrompt(1));
    // Alone in the queue: the enqueue status came before the POST reply, yet the position is known.
    expect((await within(stateWhere(job, (s) => s.queuePosition !== undefined), 3000)) as unknown).toMatchObject({ queuePosition: 0 });
    // Another client (its own client id) removes it: ComfyUI sends no event for that prompt, only a status.
    const other = new ComfyClient({ baseUrl: h.sim.url, auth: { kind: 'none' }, clientId: 'someone-else', requestTimeoutMs: 5000 });
    await other.deleteFromQueue([job.promptId]);
    const s = await within(job.done, 3000);
    expect(s).not.toBe('timeout');
    if (s === 'timeout') return;
    expect(s.status).toBe('lost');
    expect(s.lostReason).toMatch(/removed from ComfyUI's queue/);
    expect(h.engine.jobs.activeCount).toBe(0);
  });

  it('a cleared queue ends every pending job of ours', async () => {
    h.sim.faults.pauseWorker();
    const a = await h.engine.submit(slowPrompt(1));
    const b = await h.engine.submit(slowPrompt(1));
    await stateWhere(b, (s) => s.queuePosition !== undefined);
    await h.engine.client.clearQueue();
    const both = await within(Promise.all([a.done, b.done]), 3000);
    expect(both).not.toBe('timeout');
    if (both === 'timeout') return;
    expect(both.map((s) => s.status)).toEqual(['lost', 'lost']);
  });

  it('a job whose run ended without an outcome and without a history entry settles as lost, not as still queued', async () => {
    h.sim.faults.pauseWorker();
    const job = await h.engine.submit(slowPrompt(1));
    // The end-of-run frame arrives, but neither the outcome frames nor a history entry exist
    // (frames dropped as malformed, history cleared by another client in between).
    h.sim.faults.sendRawFrame(JSON.stringify({ type: 'executing', data: { node: null, prompt_id: job.promptId } }));
    const s = await within(job.done, 5000);
    expect(s).not.toBe('timeout');
    if (s === 'timeout') return;
    expect(s.status).toBe('lost');
    expect(s.lostReason).toMatch(/history/);
  });
});

describe('engine: resync after a reconnect', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({}, { COMFYWIRE_STALL_TIMEOUT_MS: '400', COMFYWIRE_PING_INTERVAL_MS: '100' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('a resync whose /queue request fails is tried again, so a job that finished during the outage still completes', async () => {
    const job = await h.engine.submit(slowPrompt(10, 10));
    await stateWhere(job, (s) => s.status === 'running');
    h.sim.faults.stallSockets();
    await until(async () => (await h.engine.client.getHistory(job.promptId)) !== undefined);
    await until(() => h.engine.connection.state === 'reconnecting');
    // The first /queue after the reconnect fails (a proxy hiccup, ComfyUI still starting up).
    const client = h.engine.client;
    const real = client.getQueue.bind(client);
    let failures = 0;
    client.getQueue = async () => {
      if (failures++ === 0) throw new Error('socket hang up');
      return real();
    };
    h.sim.faults.unstallSockets();
    const s = await within(job.done, 8000);
    expect(s).not.toBe('timeout');
    if (s === 'timeout') return;
    expect(s.status).toBe('success');
    expect(s.downloads).toHaveLength(1);
    expect(failures).toBeGreaterThanOrEqual(2);
  });
});
