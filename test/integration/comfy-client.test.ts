import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComfyAuth } from '../../src/config.js';
import { ComfyClient } from '../../src/comfy/client.js';
import {
  CancelledError, ComfyAuthRefusedError, ComfyBadResponseError, ComfyHttpError, ComfyUnreachableError, ParameterInvalidError,
  PromptRejectedError,
} from '../../src/errors.js';
import type { ApiPrompt } from '../../src/comfy/types.js';
import { closedPort, recorded, recordedHttp, replyOf, startStub, type Stub, type StubReply } from './comfy-stub.js';

const CLIENT_ID = 'c0ffee00-0000-4000-8000-000000000001';
const FAST_RETRY = { minDelayMs: 5, maxDelayMs: 10 };
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let stub: Stub;
beforeEach(async () => {
  stub = await startStub();
});
afterEach(async () => {
  await stub.close();
});

function client(auth: ComfyAuth = { kind: 'none' }, extra: { baseUrl?: string; requestTimeoutMs?: number } = {}): ComfyClient {
  return new ComfyClient({
    baseUrl: extra.baseUrl ?? stub.url,
    auth,
    clientId: CLIENT_ID,
    requestTimeoutMs: extra.requestTimeoutMs ?? 5_000,
    retry: FAST_RETRY,
  });
}

/** Serves `reply` for METHOD path (path compared without the query string). */
function route(method: string, path: string, reply: StubReply): void {
  stub.handle((req) => (req.method === method && req.url.split('?')[0] === path ? reply : undefined));
}

const bodyOf = (i = -1) => JSON.parse(stub.seen.at(i)!.body.toString('utf8')) as Record<string, unknown>;

async function rejection(p: Promise<unknown>): Promise<PromptRejectedError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PromptRejectedError);
  return error as PromptRejectedError;
}

describe('submitPrompt', () => {
  test('sends prompt, client_id, our prompt_id and extra_data; reads the recorded 200', async () => {
    const call = recorded('h_http_endpoints', 'POST', '/prompt');
    route('POST', '/prompt', replyOf(call));
    const { prompt, prompt_id } = call.request_body as { prompt: ApiPrompt; prompt_id: string };
    const result = await client().submitPrompt(prompt, { promptId: prompt_id });
    expect(result).toEqual({ promptId: prompt_id, number: 22, nodeErrors: [] });
    expect(bodyOf()).toEqual({ prompt, client_id: CLIENT_ID, prompt_id, extra_data: {} });
    expect(stub.seen[0]!.headers['content-type']).toBe('application/json');
  });

  test('generates a UUID v4 prompt_id and passes front, number, partial targets, extra_data', async () => {
    route('POST', '/prompt', replyOf(recorded('g2_front_of_queue', 'POST', '/prompt', () => true, 2)));
    await client().submitPrompt({}, { front: true, number: 3, partialExecutionTargets: ['9'], extraData: { extra_pnginfo: { workflow: {} } } });
    const body = bodyOf();
    expect(body['prompt_id']).toMatch(UUID_V4);
    expect(body).toMatchObject({ front: true, number: 3, partial_execution_targets: ['9'], extra_data: { extra_pnginfo: { workflow: {} } } });
  });

  test('every recorded 400 of f_validation_errors becomes PromptRejectedError with per-input problems', async () => {
    const calls = recordedHttp('f_validation_errors').filter((e) => e.path === '/prompt' && e.status === 400);
    const errors: PromptRejectedError[] = [];
    for (const call of calls) {
      route('POST', '/prompt', replyOf(call));
      const prompt = ((call.request_body as { prompt?: ApiPrompt }).prompt ?? {}) as ApiPrompt;
      errors.push(await rejection(client().submitPrompt(prompt)));
    }
    const [bad, missing, unknown, noOutputs, noPrompt, badLink, mismatch] = errors;
    expect(bad!.errorType).toBe('prompt_outputs_failed_validation');
    expect(bad!.problems).toHaveLength(2);
    expect(bad!.problems[0]).toMatchObject({ nodeId: '1', classType: 'EmptyImage', inputName: 'width', type: 'value_smaller_than_min', receivedValue: 0 });
    expect(bad!.problems[0]!.fix).toContain('at least 1');
    expect(bad!.problems[1]!.fix).toContain("'nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'");
    expect(bad!.message).toContain('Node 2 (ImageScale); blocks output node 3:');
    expect(missing!.message).toContain('Node 1 (SaveImage), an output node:');
    expect(bad!.hint).toContain('nothing was queued');
    expect(missing!.problems[0]).toMatchObject({ inputName: 'images', type: 'required_input_missing', classType: 'SaveImage' });
    expect(missing!.problems[0]!.fix).toContain('Set input "images"');
    expect(unknown!.errorType).toBe('invalid_prompt');
    expect(unknown!.problems[0]).toMatchObject({ nodeId: '1', classType: 'NoSuchNode', type: 'invalid_prompt' });
    expect(unknown!.problems[0]!.fix).toContain('not installed');
    expect(noOutputs!.errorType).toBe('prompt_no_outputs');
    expect(noOutputs!.problems).toEqual([]);
    expect(noOutputs!.hint).toContain('output node');
    expect(noPrompt!.errorType).toBe('no_prompt');
    expect(badLink!.problems[0]!.fix).toContain('node "99"');
    expect(mismatch!.problems[0]!.fix).toContain('expects IMAGE');
    expect(mismatch!.problems[0]!.fix).toContain('LATENT');
    for (const e of errors) expect(e.code).toBe('COMFY_PROMPT_REJECTED');
  });

  test('k2 missing checkpoint names the received value and the available checkpoints', async () => {
    const call = recorded('k2_missing_checkpoint', 'POST', '/prompt');
    route('POST', '/prompt', replyOf(call));
    const error = await rejection(client().submitPrompt((call.request_body as { prompt: ApiPrompt }).prompt));
    expect(error.problems).toEqual([
      expect.objectContaining({
        nodeId: '4', classType: 'CheckpointLoaderSimple', inputName: 'ckpt_name', type: 'value_not_in_list',
        receivedValue: 'does-not-exist.safetensors', dependentOutputs: ['9'],
      }),
    ]);
    expect(error.message).toContain("input \"ckpt_name\": Value not in list (received 'does-not-exist.safetensors'). Use one of: 'sd15-random.safetensors'.");
  });

  test('a 200 with node_errors is returned, not thrown (f7b, f8)', async () => {
    const partial = recordedHttp('f_validation_errors').filter((e) => e.path === '/prompt' && e.status === 200);
    expect(partial).toHaveLength(2);
    for (const call of partial) {
      route('POST', '/prompt', replyOf(call));
      const result = await client().submitPrompt((call.request_body as { prompt: ApiPrompt }).prompt);
      expect(result.promptId).toBe((call.body as { prompt_id: string }).prompt_id);
      expect(result.nodeErrors).toHaveLength(1);
    }
  });

  test('a 400 that is not ComfyUI\'s (a proxy page) is a plain ComfyHttpError', async () => {
    route('POST', '/prompt', { status: 400, body: '<html>Bad Request</html>', contentType: 'text/html' });
    await expect(client().submitPrompt({})).rejects.toMatchObject({ name: 'ComfyHttpError', status: 400 });
  });

  test('the 500 for a malformed body is a ComfyHttpError with status and text; POST is not retried', async () => {
    route('POST', '/prompt', replyOf(recorded('f_validation_errors', 'POST', '/prompt', (e) => e.status === 500)));
    const error = (await client().submitPrompt({}).catch((e: unknown) => e)) as ComfyHttpError;
    expect(error).toBeInstanceOf(ComfyHttpError);
    expect(error.status).toBe(500);
    expect(error.body).toContain('Server got itself in trouble');
    expect(stub.seen).toHaveLength(1);
  });
});

describe('queue, history, interrupt', () => {
  test('pending is sorted by (number, prompt_id) from heap order', async () => {
    const body = recorded('h2_queue_delete_clear_interrupt', 'GET', '/queue').body as { queue_running: unknown[]; queue_pending: unknown[][] };
    const [p24, p25, p26] = body.queue_pending;
    // [24, 26, 25] is a valid heap layout of the recorded items; a tie on number falls back to prompt_id.
    const tie = [...p26!];
    tie[0] = 24;
    route('GET', '/queue', { status: 200, body: { ...body, queue_pending: [p24, p26, p25, tie] } });
    const queue = await client().getQueue();
    expect(queue.running.map((i) => i.number)).toEqual([23]);
    expect(queue.pending.map((i) => [i.number, i.promptId.slice(0, 4)])).toEqual([[24, '09fd'], [24, 'bbac'], [25, '1336'], [26, '09fd']]);
    expect(queue.pending[0]).toMatchObject({ extraData: { client_id: '3e5dbad4-58c1-4803-8401-16ffd9411cac' }, outputsToExecute: ['2'] });
    expect(queue.pending[0]!.prompt['1']!.class_type).toBe('HarnessSlowProgress');
  });

  test('history: {} is undefined, a known id gives its entry, list passes max_items', async () => {
    const known = recorded('h_http_endpoints', 'GET', '/history/31ca828d-22a7-4153-9a7c-185bb9643c15');
    const list = recorded('h_http_endpoints', 'GET', '/history?max_items=2');
    stub.handle((req) =>
      req.url === known.path ? replyOf(known) : req.url.startsWith('/history?') ? replyOf(list) : { status: 200, body: {} },
    );
    const c = client();
    expect(await c.getHistory('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    const entry = await c.getHistory('31ca828d-22a7-4153-9a7c-185bb9643c15');
    expect(entry?.status).toMatchObject({ status_str: 'success', completed: true });
    expect(entry?.outputs['4']).toEqual({ images: [{ filename: 'scenario_a_00001_.png', subfolder: 'harness', type: 'output' }] });
    const items = await c.getHistoryList({ maxItems: 2 });
    expect(stub.seen.at(-1)!.url).toBe('/history?max_items=2');
    expect(items.map((i) => i.promptId)).toEqual(Object.keys(list.body as object));
  });

  test('interrupt posts {prompt_id} when given and {} otherwise; queue delete and clear bodies', async () => {
    stub.handle((req) => (req.method === 'POST' ? { status: 200, body: '', contentType: 'application/octet-stream' } : undefined));
    const c = client();
    await c.interrupt('4548350a-85ab-4476-9cdb-faaf790f20ad');
    await c.interrupt();
    await c.deleteFromQueue(['bbac687b-b77b-4b71-b9d0-7c3383af0733']);
    await c.clearQueue();
    await c.free({ unloadModels: true, freeMemory: true });
    expect(stub.seen.map((r) => [r.url, JSON.parse(r.body.toString())])).toEqual([
      ['/interrupt', { prompt_id: '4548350a-85ab-4476-9cdb-faaf790f20ad' }],
      ['/interrupt', {}],
      ['/queue', { delete: ['bbac687b-b77b-4b71-b9d0-7c3383af0733'] }],
      ['/queue', { clear: true }],
      ['/free', recorded('k_sd15_txt2img', 'POST', '/free').request_body],
    ]);
  });
});

describe('other routes', () => {
  test('system_stats, features, counter, object_info, models from recorded bodies', async () => {
    const calls = recordedHttp('h_http_endpoints');
    stub.handle((req) => {
      const hit = calls.find((e) => e.method === req.method && e.path === req.url);
      return hit ? replyOf(hit) : undefined;
    });
    const c = client();
    expect((await c.getSystemStats()).system.comfyui_version).toBe('0.3.64');
    expect(await c.getFeatures()).toEqual({ supports_preview_metadata: true, max_upload_size: 104857600 });
    expect(await c.getPromptCounter()).toBe(0);
    expect((await c.getNodeInfo('SaveImage'))?.output_node).toBe(true);
    expect(await c.getNodeInfo('NoSuchNode')).toBeUndefined();
    expect(await c.listModelFolders()).toContain('checkpoints');
    expect(await c.listModels('checkpoints')).toEqual([]);
    await expect(c.listModels('no_such_folder')).rejects.toMatchObject({ status: 404, hint: expect.stringContaining('listModelFolders') });
    expect(await c.listUserWorkflows()).toEqual([]); // not recorded -> 404 -> none
  });

  test('upload sends image, type, subfolder, overwrite as multipart and reads `name`', async () => {
    const call = recorded('h_http_endpoints', 'POST', '/upload/image', (e) => e.label === 'into subfolder');
    route('POST', '/upload/image', replyOf(call));
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const reply = await client().uploadImage({ data: png, filename: 'harness_upload_13250007.png' }, { subfolder: 'harness', overwrite: true });
    expect(reply).toEqual({ name: 'harness_upload_13250007.png', subfolder: 'harness', type: 'input' });
    const req = stub.seen[0]!;
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const text = req.body.toString('latin1');
    expect(text).toMatch(/name="image"; filename="harness_upload_13250007.png"/);
    expect(text).toContain(png.toString('latin1'));
    for (const [field, value] of [['type', 'input'], ['subfolder', 'harness'], ['overwrite', 'true']]) {
      expect(text).toMatch(new RegExp(`name="${field}"\\r\\n\\r\\n${value}\\r\\n`));
    }
  });

  test('upload from a path streams the file under its basename; a missing file is ParameterInvalidError', async () => {
    route('POST', '/upload/image', replyOf(recorded('h_http_endpoints', 'POST', '/upload/image', (e) => e.label === 'new file')));
    const dir = mkdtempSync(join(tmpdir(), 'comfywire-up-'));
    try {
      const file = join(dir, 'harness_upload_13250007.png');
      writeFileSync(file, Buffer.from('89504e470d0a1a0a', 'hex'));
      const reply = await client().uploadImage({ path: file });
      expect(reply.name).toBe('harness_upload_13250007.png');
      const text = stub.seen[0]!.body.toString('latin1');
      expect(text).toMatch(/name="image"; filename="harness_upload_13250007.png"/);
      expect(text).toMatch(/name="overwrite"\r\n\r\nfalse\r\n/);
      await expect(client().uploadImage({ path: join(dir, 'missing.png') })).rejects.toBeInstanceOf(ParameterInvalidError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a path prefix in baseUrl (reverse proxy) is kept, and viewUrl encodes the reference', async () => {
    route('GET', '/comfy/prompt', replyOf(recorded('h_http_endpoints', 'GET', '/prompt')));
    const c = client({ kind: 'none' }, { baseUrl: `${stub.url}/comfy/` });
    expect(await c.getPromptCounter()).toBe(0);
    expect(c.viewUrl({ filename: 'a b.png', subfolder: 'video/x', type: 'output' }, 'webp;75')).toBe(
      `${stub.url}/comfy/view?filename=a+b.png&subfolder=video%2Fx&type=output&preview=webp%3B75`,
    );
  });
});

describe('auth and failures', () => {
  test.each<[ComfyAuth, string, string]>([
    [{ kind: 'bearer', token: 't0k' }, 'authorization', 'Bearer t0k'],
    [{ kind: 'basic', user: 'ann', password: 'p:w' }, 'authorization', `Basic ${Buffer.from('ann:p:w').toString('base64')}`],
    [{ kind: 'header', name: 'X-Api-Key', value: 'k1' }, 'x-api-key', 'k1'],
  ])('auth %j is sent on every request', async (auth, header, value) => {
    stub.handle(() => ({ status: 200, body: { exec_info: { queue_remaining: 0 } } }));
    const c = client(auth);
    await c.getPromptCounter();
    await c.interrupt();
    expect(stub.seen.map((r) => r.headers[header])).toEqual([value, value]);
  });

  test('401 from a proxy is ComfyAuthRefusedError with a hint', async () => {
    stub.handle(() => ({ status: 401, body: 'Unauthorized' }));
    const error = (await client().getQueue().catch((e: unknown) => e)) as ComfyAuthRefusedError;
    expect(error).toBeInstanceOf(ComfyAuthRefusedError);
    expect(error.message).toContain('HTTP 401');
    expect(error.hint).toContain('COMFYUI_AUTH_TOKEN');
  });

  test('a closed port is ComfyUnreachableError naming the URL', async () => {
    const port = await closedPort();
    const c = client({ kind: 'none' }, { baseUrl: `http://127.0.0.1:${port}` });
    const error = (await c.getQueue().catch((e: unknown) => e)) as ComfyUnreachableError;
    expect(error).toBeInstanceOf(ComfyUnreachableError);
    expect(error.message).toContain(`http://127.0.0.1:${port}/queue`);
    expect(error.context['reason']).toBe('ECONNREFUSED');
    expect(error.hint).toContain('COMFYUI_URL');
  });

  test('GETs retry dropped connections; POSTs do not', async () => {
    let drops = 2;
    stub.handle(() => (drops-- > 0 ? { status: 0, write: (res) => res.socket?.destroy() } : { status: 200, body: { exec_info: { queue_remaining: 1 } } }));
    expect(await client().getPromptCounter()).toBe(1);
    expect(stub.seen).toHaveLength(3);
    drops = 1;
    await expect(client().submitPrompt({})).rejects.toBeInstanceOf(ComfyUnreachableError);
    expect(stub.seen).toHaveLength(4);
  });

  test('no answer within requestTimeoutMs is ComfyUnreachableError (timeout); a caller abort is CancelledError', async () => {
    stub.handle(() => ({ status: 0, hang: true }));
    const error = (await client({ kind: 'none' }, { requestTimeoutMs: 150 }).getQueue().catch((e: unknown) => e)) as ComfyUnreachableError;
    expect(error).toBeInstanceOf(ComfyUnreachableError);
    expect(error.context).toMatchObject({ reason: 'timeout', timeoutMs: 150 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(client().submitPrompt({}, { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
  });

  test('malformed JSON and foreign shapes are ComfyBadResponseError', async () => {
    route('GET', '/queue', { status: 200, body: '{not json', contentType: 'application/json' });
    await expect(client().getQueue()).rejects.toBeInstanceOf(ComfyBadResponseError);
    route('GET', '/queue', { status: 200, body: { queue_running: [[1, 'x']], queue_pending: [] } });
    const error = (await client().getQueue().catch((e: unknown) => e)) as ComfyBadResponseError;
    expect(error).toBeInstanceOf(ComfyBadResponseError);
    expect(error.message).toContain('GET /queue');
  });

  test('a map whose own "constructor" is null (zod throws a TypeError on it) is ComfyBadResponseError too', async () => {
    route('GET', '/object_info', { status: 200, body: '{"constructor":null}', contentType: 'application/json' });
    const error = (await client().getObjectInfo().catch((e: unknown) => e)) as ComfyBadResponseError;
    expect(error).toBeInstanceOf(ComfyBadResponseError);
    expect(error.message).toContain('GET /object_info');
  });
});

describe('protocol edges', () => {
  test('an empty prompt id is refused locally: ComfyUI would read it as a global interrupt', async () => {
    await expect(client().interrupt('')).rejects.toBeInstanceOf(ParameterInvalidError);
    expect(stub.seen).toHaveLength(0);
  });

  test('/object_info gets a longer deadline than ordinary requests (it scans model folders)', async () => {
    const slow = (body: unknown): StubReply => ({ status: 200, write: (res) => { setTimeout(() => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); }, 300); } });
    stub.handle((req) => (req.url === '/object_info' ? slow({ SaveImage: { output_node: true } }) : req.url === '/queue' ? slow({ queue_running: [], queue_pending: [] }) : undefined));
    const c = client({ kind: 'none' }, { requestTimeoutMs: 100 });
    expect(Object.keys(await c.getObjectInfo())).toEqual(['SaveImage']);
    await expect(c.getQueue()).rejects.toBeInstanceOf(ComfyUnreachableError);
  });

  test('an interrupted run reads back from history with status_str "error" and its last message', async () => {
    const e = recorded('e_interrupt', 'GET', '/history/6a53ad82-15c4-406a-8708-43e5e7c3c1f8');
    route('GET', '/history/6a53ad82-15c4-406a-8708-43e5e7c3c1f8', replyOf(e));
    const entry = await client().getHistory('6a53ad82-15c4-406a-8708-43e5e7c3c1f8');
    expect([entry?.status.status_str, entry?.status.completed, entry?.status.messages.at(-1)?.[0]]).toEqual(['error', false, 'execution_interrupted']);
  });

  test('an explicit number comes back as a float and is read as a number', async () => {
    route('POST', '/prompt', { status: 200, body: '{"prompt_id": "p", "number": 5.0, "node_errors": {}}', contentType: 'application/json' });
    expect((await client().submitPrompt({}, { number: 5 })).number).toBe(5);
    expect(bodyOf().number).toBe(5);
  });

  test('a Windows subfolder travels to /view unchanged', async () => {
    const url = new URL(client().viewUrl({ filename: 'a b.png', subfolder: 'sd15\\runs', type: 'output' }));
    expect([url.searchParams.get('filename'), url.searchParams.get('subfolder'), url.searchParams.get('type')]).toEqual(['a b.png', 'sd15\\runs', 'output']);
  });
});
