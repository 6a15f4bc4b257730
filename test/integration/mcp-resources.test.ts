import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { JobState } from '../../streams/job-state.js';
import { startHarness, type Harness } from './mcp-harness.js';
import { until } from '../helpers/wait.js';

/** Resources against a real engine and simulator: workflows, output files, job states and subscriptions. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 20 });
});
afterAll(async () => h.close());

interface GenerateOut {
  prompt_id: string;
  files: Array<{ path: string; filename: string; uri: string; mime: string }>;
}

async function render(args: Record<string, unknown> = {}): Promise<GenerateOut> {
  const r = await h.call('generate_image', { prompt: 'a red fox', steps: 3, width: 64, height: 64, ...args });
  expect(r.isError).toBeFalsy();
  return r.structuredContent as unknown as GenerateOut;
}

test('declares subscribe and lists the three resource templates', async () => {
  expect(h.client.getServerCapabilities()?.resources).toMatchObject({ subscribe: true, listChanged: true });
  const { resourceTemplates } = await h.client.listResourceTemplates();
  expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
    'comfywire://jobs/{prompt_id}',
    'comfywire://outputs/{prompt_id}/{file}',
    'comfywire://workflows/{name}',
  ]);
});

test('workflow templates are listed and read with their parameters', async () => {
  const { resources } = await h.client.listResources();
  expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(['comfywire://workflows/sd15-txt2img', 'comfywire://workflows/sd15-img2img']));
  const { contents } = await h.client.readResource({ uri: 'comfywire://workflows/sd15-txt2img' });
  expect(contents[0]?.mimeType).toBe('application/json');
  const body = JSON.parse((contents[0] as { text: string }).text) as { name: string; parameters: Array<{ name: string }>; prompt: object };
  expect(body.name).toBe('sd15-txt2img');
  expect(body.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['prompt', 'seed', 'steps']));
  expect(Object.keys(body.prompt).length).toBeGreaterThan(3);
  await expect(h.client.readResource({ uri: 'comfywire://workflows/nope' })).rejects.toThrow(/not found.*nope/i);
});

test('a finished job and its output file are listed and readable as JSON and PNG blob', async () => {
  const out = await render();
  const file = out.files[0]!;
  const { resources } = await h.client.listResources();
  const uris = resources.map((r) => r.uri);
  expect(uris).toContain(`comfywire://jobs/${out.prompt_id}`);
  expect(uris).toContain(file.uri);

  const job = await h.client.readResource({ uri: `comfywire://jobs/${out.prompt_id}` });
  const state = JSON.parse((job.contents[0] as { text: string }).text) as JobState;
  expect(state).toMatchObject({ promptId: out.prompt_id, status: 'success', settled: true });

  const png = await h.client.readResource({ uri: file.uri });
  const content = png.contents[0] as { blob: string; mimeType: string };
  expect(content.mimeType).toBe('image/png');
  expect(Buffer.from(content.blob, 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
});

test('output URIs never reach outside the output folder', async () => {
  const out = await render();
  const secret = path.join(h.outputDir, '..', `comfywire-secret-${process.pid}.txt`);
  writeFileSync(secret, 'secret');
  symlinkSync(secret, path.join(h.outputDir, out.prompt_id, 'link.txt'));
  try {
    for (const uri of [
      `comfywire://outputs/${out.prompt_id}/..%2F..%2Fcomfywire-secret-${process.pid}.txt`,
      `comfywire://outputs/..%2F..%2F/comfywire-secret-${process.pid}.txt`,
      `comfywire://outputs/../comfywire-secret-${process.pid}.txt`,
      `comfywire://outputs/${out.prompt_id}/link.txt`,
      `comfywire://outputs/${out.prompt_id}/missing.png`,
    ]) {
      await expect(h.client.readResource({ uri })).rejects.toThrow(/not found/i);
    }
  } finally {
    rmSync(secret, { force: true });
  }
});

test('an unknown job is not found', async () => {
  await expect(h.client.readResource({ uri: 'comfywire://jobs/00000000-0000-0000-0000-000000000000' })).rejects.toThrow(/not found/i);
});

test('a subscribed job resource is updated during the run, coalesced, the last update showing the final state', async () => {
  const updates: Array<{ at: number; status: string }> = [];
  let listChanged = 0;
  h.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void listChanged++);
  let uri = '';
  h.client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
    if (n.params.uri !== uri) return;
    const r = await h.client.readResource({ uri });
    updates.push({ at: Date.now(), status: (JSON.parse((r.contents[0] as { text: string }).text) as JobState).status });
  });

  const r = await h.call('generate_image', { prompt: 'a slow fox', steps: 40, width: 64, height: 64, wait: false });
  const id = (r.structuredContent as { prompt_id: string }).prompt_id;
  uri = `comfywire://jobs/${id}`;
  await h.client.subscribeResource({ uri });
  const job = h.engine.jobs.active(id)!;
  expect(job).toBeDefined();
  let changes = 0;
  job.states$.subscribe(() => void changes++);
  const final = await job.done;
  expect(final.status).toBe('success');
  await until(() => updates.some((u) => u.status === 'success'));

  // Many state changes (40 steps), far fewer notifications: they are coalesced. (The window
  // itself is timed exactly on a virtual clock in mcp-resource-throttle.test.ts; here wall-clock
  // counts would depend on the machine's load.)
  expect(updates.length).toBeGreaterThanOrEqual(2);
  expect(changes).toBeGreaterThan(40);
  expect(updates.length).toBeLessThan(changes / 2);
  expect(updates.at(-1)?.status).toBe('success');
  expect(listChanged).toBeGreaterThanOrEqual(1);

  await h.client.unsubscribeResource({ uri });
});

test('unsubscribing stops the updates', async () => {
  const seen: string[] = [];
  h.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seen.push(n.params.uri));
  const r = await h.call('generate_image', { prompt: 'another fox', steps: 20, width: 64, height: 64, wait: false });
  const id = (r.structuredContent as { prompt_id: string }).prompt_id;
  const uri = `comfywire://jobs/${id}`;
  await h.client.subscribeResource({ uri });
  await h.client.unsubscribeResource({ uri });
  await h.engine.jobs.active(id)?.done;
  // A control job, started after the first one ended, runs 20 steps (over one 250 ms window):
  // timers fire in due order, so by its end any trailing update of the first (due within one
  // window of the first's end) has been sent; that the control's updates arrive shows the path works.
  const c = await h.call('generate_image', { prompt: 'control fox', steps: 20, width: 64, height: 64, wait: false });
  const control = `comfywire://jobs/${(c.structuredContent as { prompt_id: string }).prompt_id}`;
  await h.client.subscribeResource({ uri: control });
  await h.engine.jobs.active((c.structuredContent as { prompt_id: string }).prompt_id)?.done;
  await until(() => seen.includes(control));
  expect(seen.filter((u) => u === uri)).toEqual([]);
  await h.client.unsubscribeResource({ uri: control });
});

