import WebSocket from 'ws';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { RecordingClient } from '../helpers/transcript.js';

const SLOW = { 1: { class_type: 'HarnessSlowProgress', inputs: { steps: 4, delay_ms: 20 } }, 2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } };

async function post(sim: Simulator, body: unknown): Promise<{ prompt_id: string; number: number }> {
  const res = await fetch(`${sim.url}/prompt`, { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as { prompt_id: string; number: number };
}

async function historyOf(sim: Simulator, id: string, timeoutMs = 5000): Promise<Record<string, any>> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const h = (await (await fetch(`${sim.url}/history/${id}`)).json()) as Record<string, any>;
    if (h[id]) return h[id];
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no history');
}

describe('simulator faults', () => {
  let sim: Simulator;
  beforeEach(async () => { sim = await startSimulator({ stepDelayMs: 1 }); });
  afterEach(async () => { await sim.close(); });

  it('fails a node by class with an out-of-memory error and the server tips', async () => {
    sim.faults.failWithOutOfMemory({ classType: 'HarnessSlowProgress' });
    const { prompt_id } = await post(sim, { prompt: SLOW, client_id: 'c' });
    const entry = await historyOf(sim, prompt_id);
    const [type, data] = entry.status.messages.at(-1);
    expect(type).toBe('execution_error');
    expect(data.exception_type).toBe('torch.OutOfMemoryError');
    expect(data.exception_message).toContain('TIPS:');
    expect(Object.keys(data).sort()).toEqual(['current_inputs', 'current_outputs', 'exception_message', 'exception_type', 'executed', 'node_id', 'node_type', 'prompt_id', 'timestamp', 'traceback']);
  });

  it('fails a node by id with a chosen exception', async () => {
    sim.faults.failNode({ nodeId: '2' }, 'disk full', 'OSError');
    const { prompt_id } = await post(sim, { prompt: SLOW, client_id: 'c' });
    const [, data] = (await historyOf(sim, prompt_id)).status.messages.at(-1);
    expect([data.node_id, data.exception_type, data.executed]).toEqual(['2', 'OSError', ['1']]);
  });

  it('drops every socket uncleanly', async () => {
    const client = await RecordingClient.connect(sim.url, 'c', null);
    const code = new Promise<number>((resolve) => client.ws.once('close', (c) => resolve(c)));
    sim.faults.dropSockets();
    expect(await code).toBe(1006);
  });

  it('restart loses queue, history and the counter', async () => {
    sim.faults.pauseWorker();
    const first = await post(sim, { prompt: SLOW });
    await post(sim, { prompt: SLOW });
    expect(((await (await fetch(`${sim.url}/queue`)).json()) as any).queue_pending).toHaveLength(2);
    await sim.faults.restart();
    sim.faults.resumeWorker();
    expect(await (await fetch(`${sim.url}/queue`)).json()).toEqual({ queue_running: [], queue_pending: [] });
    expect(await (await fetch(`${sim.url}/history/${first.prompt_id}`)).json()).toEqual({});
    expect((await post(sim, { prompt: SLOW })).number).toBe(0);
  });

  it('slows a node down', async () => {
    sim.faults.slowNode({ classType: 'PreviewImage' }, 150);
    const started = Date.now();
    const { prompt_id } = await post(sim, { prompt: SLOW });
    await historyOf(sim, prompt_id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('holds a node before a step until released; an interrupt sent meanwhile lands in that step', async () => {
    const client = await RecordingClient.connect(sim.url, 'c', null);
    sim.faults.pauseWorker(); // no step can pass before the hold is in place
    const { prompt_id } = await post(sim, { prompt: SLOW, client_id: 'c' });
    const hold = sim.faults.holdStep({ promptId: prompt_id, nodeId: '1', value: 3 });
    sim.faults.resumeWorker();
    await hold.reached;
    // Steps 1 and 2 were sent before the hold was reached, and on the same socket before anything later.
    sim.faults.sendRawFrame(JSON.stringify({ type: 'barrier', data: {} }));
    await client.waitForType('barrier');
    expect(client.lines.filter((l) => l.startsWith('progress('))).toEqual(['progress(1/4 node=1)', 'progress(2/4 node=1)']);
    await fetch(`${sim.url}/interrupt`, { method: 'POST', body: '{}' });
    hold.release();
    const [type, data] = (await historyOf(sim, prompt_id)).status.messages.at(-1);
    expect([type, data.node_id]).toEqual(['execution_interrupted', '1']);
    await client.waitForType('execution_interrupted');
    expect(client.lines.filter((l) => l.startsWith('progress('))).toHaveLength(2);
    await client.close();
  });

  it('holds a prompt between its last `executed` and execution_success until released', async () => {
    const client = await RecordingClient.connect(sim.url, 'c', null);
    sim.faults.pauseWorker();
    const { prompt_id } = await post(sim, { prompt: SLOW, client_id: 'c' });
    const hold = sim.faults.holdOutcome(prompt_id);
    sim.faults.resumeWorker();
    await hold.reached;
    await client.waitForType('executed');
    sim.faults.sendRawFrame(JSON.stringify({ type: 'barrier', data: {} }));
    await client.waitForType('barrier');
    expect(client.lines.some((l) => l.startsWith('execution_success'))).toBe(false);
    expect(await (await fetch(`${sim.url}/history/${prompt_id}`)).json()).toEqual({});
    hold.release();
    await client.waitForType('execution_success');
    expect((await historyOf(sim, prompt_id)).status.status_str).toBe('success');
    await client.close();
  });

  it('holds one /view in the middle of its body: the first bytes, then the rest once released; the next /view is not held', async () => {
    const { prompt_id } = await post(sim, { prompt: SLOW });
    const image = (await historyOf(sim, prompt_id)).outputs['2'].images[0];
    const url = `${sim.url}/view?filename=${image.filename}&subfolder=&type=${image.type}`;
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const hold = sim.faults.holdView(100);
    const res = await fetch(url);
    expect(res.headers.get('content-length')).toBe(String(whole.length));
    const reader = res.body!.getReader();
    await hold.reached;
    const first = await reader.read();
    expect(Buffer.from(first.value!)).toEqual(whole.subarray(0, 100));
    hold.release();
    const rest: Buffer[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(Buffer.from(r.value));
    expect(Buffer.concat(rest)).toEqual(whole.subarray(100));
    expect(Buffer.from(await (await fetch(url)).arrayBuffer())).toEqual(whole);
  });

  it('stalls sockets: nothing more arrives and pings go unanswered', async () => {
    const client = await RecordingClient.connect(sim.url, 'c', null);
    await client.waitFor(1);
    sim.faults.stallSockets();
    let ponged = false;
    client.ws.on('pong', () => { ponged = true; });
    client.ws.ping();
    const { prompt_id } = await post(sim, { prompt: SLOW, client_id: 'c' });
    // The whole run, not a fixed time: everything it would have sent was sent by its history write.
    await historyOf(sim, prompt_id);
    expect(ponged).toBe(false);
    expect(client.received).toBe(1);
    sim.faults.unstallSockets();
    client.ws.terminate();
  });
});

describe('simulator HTTP edges', () => {
  it('answers 401 without the proxy header, on HTTP and on the WS upgrade', async () => {
    const sim = await startSimulator({ authProxy: { header: 'X-Token', value: 's3cret' } });
    try {
      expect((await fetch(`${sim.url}/prompt`)).status).toBe(401);
      expect((await fetch(`${sim.url}/api/prompt`, { headers: { 'X-Token': 's3cret' } })).status).toBe(200);
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/ws`);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => undefined);
      });
      expect(status).toBe(401);
    } finally {
      await sim.close();
    }
  });

  it('refuses a cross-origin browser request with an empty 403 (origin check)', async () => {
    const sim = await startSimulator();
    try {
      const res = await fetch(`${sim.url}/prompt`, { headers: { Origin: 'http://localhost:5173' } });
      expect(res.status).toBe(403);
      expect(await res.text()).toBe('');
    } finally {
      await sim.close();
    }
  });

  it('serves userdata workflows with %2F paths and lists them with full_info', async () => {
    const sim = await startSimulator();
    try {
      const put = await fetch(`${sim.url}/api/userdata/workflows%2Fsub%2Fmy%20flow.json`, { method: 'POST', body: '{"nodes":[]}' });
      expect(put.status).toBe(200);
      const list = (await (await fetch(`${sim.url}/userdata?dir=workflows&recurse=true&full_info=true`)).json()) as Array<{ path: string }>;
      expect(list.map((f) => f.path)).toEqual(['sub/my flow.json']);
      expect(await (await fetch(`${sim.url}/userdata/workflows%2Fsub%2Fmy%20flow.json`)).json()).toEqual({ nodes: [] });
      expect((await fetch(`${sim.url}/userdata?dir=nothing`)).status).toBe(404);
      expect((await fetch(`${sim.url}/userdata/..%2F..%2Fescape.json`)).status).toBe(403);
    } finally {
      await sim.close();
    }
  });
});
