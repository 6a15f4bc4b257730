import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/** The read-mostly tools against the simulator, through a real MCP client. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

test('tools/list: every tool with described inputs, output schemas and read-only annotations', async () => {
  const { tools } = await h.client.listTools();
  const names = tools.map((t) => t.name).sort();
  expect(names).toEqual(
    [
      'cancel_job', 'generate_image', 'get_queue', 'get_system_stats', 'get_workflow_status', 'list_models', 'list_workflows', 'upload_image',
      'upload_workflow',
    ].sort(),
  );
  for (const tool of tools) {
    expect(tool.outputSchema).toBeDefined();
    expect(tool.description?.length).toBeGreaterThan(40);
    for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
      expect([tool.name, field, (schema as { description?: string }).description]).toEqual([tool.name, field, expect.any(String)]);
    }
  }
  const readOnly = tools.filter((t) => t.annotations?.readOnlyHint).map((t) => t.name).sort();
  expect(readOnly).toEqual(['get_queue', 'get_system_stats', 'list_models', 'list_workflows']);
  // It may download another process's outputs into the output folder, once.
  expect(tools.find((t) => t.name === 'get_workflow_status')?.annotations).toMatchObject({ destructiveHint: false, idempotentHint: true });
  expect(h.client.getInstructions()).toMatch(/list_workflows first[\s\S]*get_workflow_status[\s\S]*cancel_job/);
});

test('list_workflows: shipped templates with their parameters', async () => {
  const r = await h.call('list_workflows');
  expect(r.isError).toBeFalsy();
  const s = r.structuredContent as { workflows: Array<{ name: string; source: string; is_default: boolean; parameters: Array<{ name: string; choices?: string[] }> }> };
  const txt2img = s.workflows.find((w) => w.name === 'sd15-txt2img')!;
  expect(txt2img).toMatchObject({ source: 'folder', is_default: true });
  expect(txt2img.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['prompt', 'seed', 'steps', 'width', 'sampler']));
  expect(txt2img.parameters.find((p) => p.name === 'sampler')!.choices).toContain('euler');
  expect(textOf(r)).toMatch(/- sd15-txt2img \[default\]/);
  expect(textOf(r)).toMatch(/steps: integer 1\.\.150/);
});

test('list_models: folders, one folder, and an unknown folder with the valid names', async () => {
  const folders = await h.call('list_models');
  expect((folders.structuredContent as { folders: string[] }).folders).toContain('checkpoints');
  const ckpts = await h.call('list_models', { folder: 'checkpoints' });
  expect((ckpts.structuredContent as { files: string[] }).files).toContain('sd15-random.safetensors');
  const bad = await h.call('list_models', { folder: 'checkpoint' });
  expect(bad.isError).toBe(true);
  expect(textOf(bad)).toMatch(/no model folder "checkpoint".*Did you mean "checkpoints"/);
});

test('get_system_stats: devices with VRAM in GiB and versions', async () => {
  const r = await h.call('get_system_stats');
  const s = r.structuredContent as { devices: Array<{ vram_total_gib?: number }>; comfyui_version?: string };
  expect(s.devices.length).toBeGreaterThan(0);
  expect(textOf(r)).toMatch(/VRAM .* GiB free of .* GiB/);
  // What comfywire itself holds: nothing in flight, the socket's listeners, a pooled connection (the call above).
  const held = (r.structuredContent as { comfywire: Record<string, number> }).comfywire;
  expect(held).toMatchObject({ jobs_in_flight: 0, prompt_routes: 0, downloads: 0, no_download_marks: 0, tasks: expect.any(Number) });
  expect(held.event_subscribers).toBeGreaterThan(0);
  expect(held.socket_listeners).toBeGreaterThan(0);
  expect(held.http_connections).toBeGreaterThan(0);
  expect(textOf(r)).toMatch(/comfywire holds: 0 jobs in flight, \d+ recent, 0 prompt routes/);
});

test('get_queue and get_workflow_status without id: empty queue, no recent jobs', async () => {
  const q = await h.call('get_queue');
  expect(q.structuredContent).toEqual({ running: [], pending: [] });
  expect(textOf(q)).toBe('The ComfyUI queue is empty.');
  const s = await h.call('get_workflow_status');
  expect(s.structuredContent).toMatchObject({ queue: { running: [], pending: [] }, recent: [] });
});

test('upload_image: a file inside the allowed folders is uploaded; one outside is refused with the allowed list', async () => {
  const file = path.join(h.outputDir, 'ref.png');
  writeFileSync(file, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer());
  const ok = await h.call('upload_image', { path: file });
  expect(ok.isError).toBeFalsy();
  expect(ok.structuredContent).toMatchObject({ image: 'comfywire/ref.png', type: 'input' });

  const outside = await h.call('upload_image', { path: '/etc/hostname' });
  expect(outside.isError).toBe(true);
  expect(textOf(outside)).toMatch(/outside the folders comfywire may read/);
  expect(textOf(outside)).toMatch(/Allowed folders: .*COMFYWIRE_UPLOAD_DIRS/);

  const missing = await h.call('upload_image', { path: 'nope.png' });
  expect(missing.isError).toBe(true);
  expect(textOf(missing)).toMatch(/does not exist/);
});

test('cancel_job and get_workflow_status with an unknown id: isError with where to look', async () => {
  for (const tool of ['cancel_job', 'get_workflow_status']) {
    const r = await h.call(tool, { prompt_id: 'no-such-prompt' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/No job with prompt_id no-such-prompt.*\n.*get_queue/);
  }
});
