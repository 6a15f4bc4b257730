import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { RecordingClient } from '../helpers/transcript.js';

/**
 * Behaviour of a real ComfyUI 0.3.64 that the recorded transcripts do not exercise, where the
 * simulator used to be kinder than the server (protocol map sections 2.x, 3.2, 6.2).
 */

const SLOW = (steps = 3, delay = 20): Record<string, unknown> => ({
  1: { class_type: 'HarnessSlowProgress', inputs: { steps, delay_ms: delay } },
  2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
});

async function post(sim: Simulator, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = text;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json };
}

const getJson = async (sim: Simulator, path: string): Promise<any> => (await fetch(`${sim.url}${path}`)).json();

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not met in time');
}

describe('simulator: the history race (protocol 6.2)', () => {
  let sim: Simulator;
  // The checks inside the gap (terminal frame received, then two HTTP reads) must fit in it even
  // when the machine is busy; the end of the gap is then awaited as an event (executing null).
  beforeAll(async () => { sim = await startSimulator({ stepDelayMs: 1, historyWriteDelayMs: 1000 }); });
  afterAll(async () => { await sim.close(); });

  it.each([
    ['execution_success', SLOW(2, 5)],
    ['execution_error', { 1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, 2: { class_type: 'HarnessFail', inputs: { message: 'boom', image: ['1', 0] } }, 3: { class_type: 'PreviewImage', inputs: { images: ['2', 0] } } }],
  ])('answers {} for /history/{id} after %s until executing {node: null}', async (terminal, prompt) => {
    const client = await RecordingClient.connect(sim.url, 'race', null);
    const { json } = await post(sim, '/prompt', { prompt, client_id: 'race' });
    const id = json.prompt_id as string;
    await client.waitForType(terminal);
    // Still the running item, and not yet in history.
    expect(await getJson(sim, `/history/${id}`)).toEqual({});
    expect((await getJson(sim, '/queue')).queue_running.map((i: unknown[]) => i[1])).toEqual([id]);
    await client.waitForLine((l) => l === 'executing(node=null)');
    expect(Object.keys(await getJson(sim, `/history/${id}`))).toEqual([id]);
    expect((await getJson(sim, '/queue')).queue_running).toEqual([]);
    const order = client.lines.slice(client.lines.findIndex((l) => l.startsWith(terminal)));
    expect(order.slice(0, 3).map((l) => l.replace(/\(.*$/, ''))).toEqual([terminal, 'status', 'executing']);
    await client.close();
  });
});

describe('simulator: POST /prompt edges', () => {
  let sim: Simulator;
  beforeAll(async () => { sim = await startSimulator({ stepDelayMs: 1, historyWriteDelayMs: 1 }); });
  afterAll(async () => { await sim.close(); });

  it('converts number with float(): numeric strings and booleans pass, null and words are a 500', async () => {
    expect((await post(sim, '/prompt', { prompt: SLOW(1, 0), number: '7' })).json.number).toBe(7);
    expect((await post(sim, '/prompt', { prompt: SLOW(1, 0), number: 2.5 })).json.number).toBe(2.5);
    expect((await post(sim, '/prompt', { prompt: SLOW(1, 0), number: true })).json.number).toBe(1);
    expect((await post(sim, '/prompt', { prompt: SLOW(1, 0), number: null })).status).toBe(500);
    expect((await post(sim, '/prompt', { prompt: SLOW(1, 0), number: 'soon' })).status).toBe(500);
    expect((await post(sim, '/prompt', { prompt: SLOW(1, 0), number: '0x10' })).status).toBe(500);
  });

  it('reads front with Python truthiness: [] and "" are false, "false" is true', async () => {
    const a = await post(sim, '/prompt', { prompt: SLOW(1, 0), front: [] });
    const b = await post(sim, '/prompt', { prompt: SLOW(1, 0), front: '' });
    const c = await post(sim, '/prompt', { prompt: SLOW(1, 0), front: 'false' });
    expect(a.json.number).toBeGreaterThanOrEqual(0);
    expect(b.json.number).toBe(a.json.number + 1);
    expect(c.json.number).toBe(-(b.json.number + 1));
  });

  it('turns prompt_id null into "None" and keeps client_id "" as present', async () => {
    const { json } = await post(sim, '/prompt', { prompt: SLOW(1, 0), prompt_id: null, client_id: '' });
    expect(json.prompt_id).toBe('None');
    await waitFor(async () => Object.keys(await getJson(sim, '/history/None')).length > 0);
    expect((await getJson(sim, '/history/None')).None.prompt[3]).toEqual({ client_id: '' });
  });

  it('answers 500 when client_id must be stored into an extra_data that is not an object', async () => {
    expect((await post(sim, '/prompt', { prompt: SLOW(1, 0), extra_data: ['x'], client_id: 'c' })).status).toBe(500);
    expect((await post(sim, '/prompt', { prompt: SLOW(1, 0), extra_data: null, client_id: 'c' })).status).toBe(500);
  });

  it('keeps extra_data, Comfy.org keys included, in /queue and strips those keys in history', async () => {
    sim.faults.pauseWorker();
    let id = '';
    try {
      const { json } = await post(sim, '/prompt', { prompt: SLOW(1, 0), client_id: 'q', extra_data: { api_key_comfy_org: 'k', extra_pnginfo: { workflow: { a: 1 } } } });
      id = json.prompt_id as string;
      const item = (await getJson(sim, '/queue')).queue_pending.find((i: unknown[]) => i[1] === json.prompt_id);
      expect(item).toHaveLength(5);
      expect(item[3]).toEqual({ api_key_comfy_org: 'k', extra_pnginfo: { workflow: { a: 1 } }, client_id: 'q' });
    } finally {
      sim.faults.resumeWorker();
    }
    await waitFor(async () => Object.keys(await getJson(sim, `/history/${id}`)).length > 0);
    const entry = (await getJson(sim, `/history/${id}`))[id] as { prompt: unknown[] };
    expect(entry.prompt[3]).toEqual({ extra_pnginfo: { workflow: { a: 1 } }, client_id: 'q' });
  });

  it('fails validation for a numeric link source and a node without inputs, unwraps __value__, converts constants', async () => {
    const numeric = await post(sim, '/prompt', { prompt: { 1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, 2: { class_type: 'PreviewImage', inputs: { images: [1, 0] } } } });
    expect(numeric.status).toBe(400);
    expect(numeric.json.node_errors['2'].errors[0]).toMatchObject({ type: 'exception_during_validation', details: '1', extra_info: { exception_type: 'KeyError' } });
    const noInputs = await post(sim, '/prompt', { prompt: { 1: { class_type: 'PreviewImage' } } });
    expect(noInputs.status).toBe(400);
    expect(noInputs.json.node_errors['1'].errors[0]).toMatchObject({ type: 'exception_during_validation', details: "'inputs'" });
    const floatSlot = await post(sim, '/prompt', { prompt: { 1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, 2: { class_type: 'PreviewImage', inputs: { images: ['1', 0.5] } } } });
    expect(floatSlot.json.node_errors['2'].errors[0].extra_info.exception_type).toBe('TypeError');
    expect(floatSlot.json.node_errors['2'].errors[0].details).toBe('tuple indices must be integers or slices, not float');
    const ok = await post(sim, '/prompt', { prompt: { 1: { class_type: 'EmptyImage', inputs: { width: '16', height: { __value__: 8 }, batch_size: 1, color: '0' } }, 2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } } });
    expect(ok.status).toBe(200);
    await waitFor(async () => Object.keys(await getJson(sim, `/history/${ok.json.prompt_id}`)).length > 0);
    const stored = (await getJson(sim, `/history/${ok.json.prompt_id}`))[ok.json.prompt_id].prompt[2];
    expect(stored['1'].inputs).toEqual({ width: 16, height: 8, batch_size: 1, color: 0 });
    const hex = await post(sim, '/prompt', { prompt: { 1: { class_type: 'EmptyImage', inputs: { width: '0x10', height: 8, batch_size: 1, color: 0 } }, 2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } } });
    expect(hex.json.node_errors['1'].errors[0].type).toBe('invalid_input_type');
  });
});

describe('simulator: /interrupt, /queue and /free bodies', () => {
  let sim: Simulator;
  beforeEach(async () => { sim = await startSimulator({ stepDelayMs: 1, historyWriteDelayMs: 1 }); });
  afterEach(async () => { await sim.close(); });

  async function runningThen(body: unknown): Promise<string> {
    const { json } = await post(sim, '/prompt', { prompt: SLOW(40, 20), client_id: 'i' });
    await waitFor(async () => (await getJson(sim, '/queue')).queue_running.length === 1);
    await post(sim, '/interrupt', body);
    return json.prompt_id as string;
  }

  it('treats an empty prompt_id as a global interrupt', async () => {
    const id = await runningThen({ prompt_id: '' });
    await waitFor(async () => Object.keys(await getJson(sim, `/history/${id}`)).length > 0, 3000);
    const entry = (await getJson(sim, `/history/${id}`))[id];
    expect([entry.status.status_str, entry.status.completed, entry.status.messages.at(-1)[0]]).toEqual(['error', false, 'execution_interrupted']);
  });

  it('ignores a numeric prompt_id (never equal to the running id)', async () => {
    const id = await runningThen({ prompt_id: 123 });
    // The whole run goes on after the request: it ends as a success, not interrupted.
    await waitFor(async () => Object.keys(await getJson(sim, `/history/${id}`)).length > 0);
    const entry = (await getJson(sim, `/history/${id}`))[id];
    expect([entry.status.status_str, entry.status.messages.at(-1)[0]]).toEqual(['success', 'execution_success']);
  });

  it('answers 500 for a JSON body that is not an object, and deletes only by string ids', async () => {
    expect((await post(sim, '/interrupt', '[1]')).status).toBe(500);
    expect((await post(sim, '/free', '[]')).status).toBe(500);
    sim.faults.pauseWorker();
    const { json } = await post(sim, '/prompt', { prompt: SLOW(1, 0), prompt_id: '5' });
    await post(sim, '/queue', { delete: [5] });
    expect((await getJson(sim, '/queue')).queue_pending.map((i: unknown[]) => i[1])).toEqual([json.prompt_id]);
    await post(sim, '/queue', { delete: ['5'] });
    expect((await getJson(sim, '/queue')).queue_pending).toEqual([]);
    sim.faults.resumeWorker();
  });
});

describe('simulator: client_id null is no client id', () => {
  let sim: Simulator;
  beforeAll(async () => { sim = await startSimulator({ stepDelayMs: 1, historyWriteDelayMs: 1 }); });
  afterAll(async () => { await sim.close(); });

  it('broadcasts progress, sends no execution_* and no final executing to a socket named "null"', async () => {
    const named = await RecordingClient.connect(sim.url, 'null', null);
    const { json } = await post(sim, '/prompt', { prompt: SLOW(2, 5), client_id: null });
    await waitFor(async () => Object.keys(await getJson(sim, `/history/${json.prompt_id}`)).length > 0);
    // The run's frames were all sent before the history write; a frame sent after them is read
    // after them, so once it is here nothing of the run is still on its way.
    sim.faults.sendRawFrame(JSON.stringify({ type: 'barrier', data: {} }));
    await named.waitForType('barrier');
    const types = named.lines.map((l) => l.replace(/\(.*$/, ''));
    expect(types).toContain('progress');
    expect(types.filter((t) => t.startsWith('execution') || t === 'executing' || t === 'executed')).toEqual([]);
    await named.close();
  });
});

describe('simulator: WebSocket first message and same clientId', () => {
  let sim: Simulator;
  beforeAll(async () => { sim = await startSimulator({ stepDelayMs: 1 }); });
  afterAll(async () => { await sim.close(); });

  it('still negotiates feature flags after a first message that is not JSON', async () => {
    const client = await RecordingClient.connect(sim.url, 'ff', null);
    client.ws.send('hello');
    client.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    await client.waitForType('feature_flags');
    await client.close();
  });

  it('a replaced socket gets nothing; when it closes, the newer one goes silent too (3.2)', async () => {
    const older = await RecordingClient.connect(sim.url, 'dup', null);
    const newer = await RecordingClient.connect(sim.url, 'dup', null);
    const before = older.lines.length;
    await post(sim, '/prompt', { prompt: SLOW(1, 0), client_id: 'dup' });
    await newer.waitForLine((l) => l === 'executing(node=null)');
    expect(older.lines.length).toBe(before);
    await older.close();
    // Not a landing: the old socket's FIN is already with the server, which reads it before the
    // next request below; the pause only keeps that from resting on I/O order alone.
    await new Promise((r) => setTimeout(r, 50));
    const seen = newer.lines.length;
    const second = await post(sim, '/prompt', { prompt: SLOW(2, 0), client_id: 'dup' });
    // Its whole run, not a fixed time: every frame meant for 'dup' was sent before the history write.
    await waitFor(async () => Object.keys(await getJson(sim, `/history/${second.json.prompt_id}`)).length > 0);
    expect(newer.lines.length).toBe(seen);
    await newer.close();
  });
});

describe('simulator: /upload/image names', () => {
  let sim: Simulator;
  beforeAll(async () => { sim = await startSimulator({ stepDelayMs: 1 }); });
  afterAll(async () => { await sim.close(); });

  async function upload(filename: string, bytes: number[], fields: Record<string, string> = {}): Promise<{ status: number; json: any }> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), filename);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${sim.url}/upload/image`, { method: 'POST', body: form });
    const text = await res.text();
    return { status: res.status, json: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
  }

  it('uses the filename as sent: a missing folder in it is a 500, climbing out a 400; renames keep the folder', async () => {
    expect((await upload('nodir/a.png', [1])).status).toBe(500);
    expect((await upload('../a.png', [1])).status).toBe(400);
    expect((await upload('a.png', [1], { subfolder: '/etc' })).status).toBe(400);
    expect((await upload('a.png', [1], { type: 'models' })).status).toBe(500);
    expect((await upload('in.png', [1], { subfolder: 'sub' })).json).toEqual({ name: 'in.png', subfolder: 'sub', type: 'input' });
    expect((await upload('sub/in.png', [2])).json).toEqual({ name: 'sub/in (1).png', subfolder: '', type: 'input' });
    expect((await upload('sub/in.png', [1])).json.name).toBe('sub/in.png');
  });
});
