import { afterEach, describe, expect, it } from '@jest/globals';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { postForeignPrompt, slowPrompt } from '../helpers/prompts.js';
import { until } from '../helpers/wait.js';

/**
 * The simulator's two API generations (docs/comfyui-api-generations.md): '0.3.64' answers 404 to
 * the jobs routes as that version does; 'latest' serves them as today's server.py and
 * comfy_execution/jobs.py do (answer shapes, status filter, paging, sort, errors, cancel).
 */

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const get = async (path: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${sim!.url}${path}`);
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
};
const post = async (path: string, body?: unknown): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${sim!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
};

async function postPrompt(prompt: unknown): Promise<string> {
  return (await post('/prompt', { prompt })).body.prompt_id as string;
}

async function finished(id: string): Promise<void> {
  await until(async () => (await get(`/history/${id}`)).body[id] !== undefined, 10_000);
}

describe("api '0.3.64' (the default)", () => {
  it('answers 404 to every jobs route and its /features has the old flags only', async () => {
    sim = await startSimulator({ port: 0, stepDelayMs: 1 });
    const id = await postForeignPrompt(sim.url);
    await finished(id);
    expect((await get('/api/jobs')).status).toBe(404);
    expect((await get(`/api/jobs/${id}`)).status).toBe(404);
    expect((await post(`/api/jobs/${id}/cancel`)).status).toBe(404);
    expect((await post('/api/jobs/cancel', { job_ids: [id] })).status).toBe(404);
    expect((await get('/features')).body).toEqual({ supports_preview_metadata: true, max_upload_size: 104857600 });
    // The rest of the API is untouched.
    expect((await get(`/api/history/${id}`)).body[id].status.status_str).toBe('success');
    // 0.3.64 stamps no create_time into extra_data (today's server does).
    expect((await get(`/history/${id}`)).body[id].prompt[3]).not.toHaveProperty('create_time');
  });

  it('refuses an unknown generation at start', async () => {
    await expect(startSimulator({ port: 0, api: '0.4' as never })).rejects.toThrow(/use 0\.3\.64 or latest/);
  });
});

describe("api 'latest'", () => {
  it('GET /api/jobs/{id}: pending, in_progress, completed (with outputs and status), cancelled, and 404 for an unknown id', async () => {
    sim = await startSimulator({ port: 0, stepDelayMs: 1, api: 'latest' });
    const done = await postForeignPrompt(sim.url);
    await finished(done);
    const running = await postPrompt(slowPrompt(10, 1));
    const hold = sim.faults.holdStep({ promptId: running, nodeId: '1', value: 2 });
    await hold.reached;
    const waiting = await postForeignPrompt(sim.url);

    const completed = (await get(`/api/jobs/${done}`)).body;
    expect(completed).toMatchObject({ id: done, status: 'completed', outputs_count: 1, previewable_outputs_count: 1 });
    expect(typeof completed.create_time).toBe('number');
    expect(completed.outputs['2'].images[0]).toMatchObject({ type: 'temp' });
    expect(completed.execution_status).toMatchObject({ status_str: 'success', completed: true });
    expect(completed.workflow.prompt['1'].class_type).toBe('EmptyImage');
    expect(completed.execution_end_time).toBeGreaterThanOrEqual(completed.execution_start_time);

    expect((await get(`/api/jobs/${running}`)).body).toMatchObject({ id: running, status: 'in_progress', outputs_count: 0 });
    expect((await get(`/api/jobs/${waiting}`)).body).toMatchObject({ id: waiting, status: 'pending', priority: expect.any(Number) });
    expect(await get('/api/jobs/00000000-0000-4000-8000-000000000000')).toEqual({ status: 404, body: { error: 'Job not found' } });
    // ComfyUI registers them as /api/jobs...: the bare path is not one of its routes.
    expect((await get(`/jobs/${done}`)).status).toBe(404);

    // Cancel: the pending one is dequeued, the running one interrupted; finished and unknown are no-ops.
    expect((await post(`/api/jobs/${waiting}/cancel`)).body).toEqual({ cancelled: true });
    expect((await get(`/api/jobs/${waiting}`)).status).toBe(404);
    expect((await post(`/api/jobs/${running}/cancel`)).body).toEqual({ cancelled: true });
    hold.release();
    await finished(running);
    const interrupted = (await get(`/api/jobs/${running}`)).body;
    expect(interrupted.status).toBe('cancelled');
    expect((await post(`/api/jobs/${done}/cancel`)).body).toEqual({ cancelled: false });
    expect((await post('/api/jobs/00000000-0000-4000-8000-000000000000/cancel')).body).toEqual({ cancelled: false });
    // The server keeps serving prompts.
    await finished(await postForeignPrompt(sim.url));
  });

  it('GET /api/jobs: status filter, sort, limit/offset with has_more, and 400s that say what is valid', async () => {
    sim = await startSimulator({ port: 0, stepDelayMs: 1, api: 'latest' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await postForeignPrompt(sim.url));
      await finished(ids[i]!);
    }
    sim.faults.failNode({ classType: 'HarnessSlowProgress' });
    const failed = await postPrompt(slowPrompt(1, 1));
    await finished(failed);
    sim.faults.pauseWorker();
    const pending = await postForeignPrompt(sim.url);

    const all = (await get('/api/jobs')).body;
    expect(all.pagination).toEqual({ offset: 0, limit: null, total: 5, has_more: false });
    // Newest first by create_time (ties keep their order).
    const times = all.jobs.map((j: any) => j.create_time);
    expect([...times].sort((a: number, b: number) => b - a)).toEqual(times);
    expect(all.jobs.find((j: any) => j.id === failed)).toMatchObject({ status: 'failed', execution_error: expect.objectContaining({ exception_type: 'RuntimeError' }) });

    expect((await get('/api/jobs?status=pending')).body.jobs.map((j: any) => j.id)).toEqual([pending]);
    expect((await get('/api/jobs?status=failed,%20PENDING')).body.jobs.map((j: any) => j.id).sort()).toEqual([failed, pending].sort());
    expect((await get('/api/jobs?status=completed&sort_order=asc')).body.jobs.map((j: any) => j.id)).toEqual(ids);

    const page = (await get('/api/jobs?status=completed&sort_order=asc&limit=2&offset=1')).body;
    expect(page.jobs.map((j: any) => j.id)).toEqual(ids.slice(1, 3));
    expect(page.pagination).toEqual({ offset: 1, limit: 2, total: 3, has_more: false });
    expect((await get('/api/jobs?status=completed&sort_order=asc&limit=1')).body.pagination).toEqual({ offset: 0, limit: 1, total: 3, has_more: true });
    expect((await get('/api/jobs?offset=-4&limit=1')).body.pagination.offset).toBe(0);

    expect(await get('/api/jobs?status=done')).toEqual({ status: 400, body: { error: 'Invalid status value(s): done. Valid values: pending, in_progress, completed, failed, cancelled' } });
    expect((await get('/api/jobs?limit=0')).body).toEqual({ error: 'limit must be a positive integer' });
    expect((await get('/api/jobs?limit=x')).body).toEqual({ error: 'limit must be an integer' });
    expect((await get('/api/jobs?sort_by=name')).status).toBe(400);
    expect((await get('/api/jobs?sort_order=up')).status).toBe(400);

    // Batch cancel: malformed ids refused before anything is done; the rest is best-effort.
    expect(await post('/api/jobs/cancel', { job_ids: [pending, 'nope'] })).toEqual({ status: 400, body: { error: 'job_ids contains invalid id(s)', invalid_ids: ['nope'] } });
    expect((await get(`/api/jobs/${pending}`)).body.status).toBe('pending');
    expect((await post('/api/jobs/cancel', { job_ids: 'x' })).status).toBe(400);
    expect((await post('/api/jobs/cancel')).body).toEqual({ error: 'Request body must be valid JSON' });
    expect((await post('/api/jobs/cancel', { job_ids: [ids[0], pending] })).body).toEqual({ cancelled: true });
    expect((await get(`/api/jobs/${pending}`)).status).toBe(404);
    expect((await get('/features')).body).toMatchObject({ node_replacements: true, supports_model_type_tags: true });
  });
});
