/** The workflows folder: listing, formats, sidecars, errors, and the shipped templates. */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectInfo } from '../../src/comfy/types.js';
import { WorkflowInvalidError, WorkflowNotFoundError } from '../../src/errors.js';
import { buildObjectInfo } from '../../src/simulator/object-info.js';
import { listTemplates, loadTemplate } from '../../src/workflows/template-store.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shipped = path.join(repo, 'workflows');
const objectInfo = JSON.parse(readFileSync(path.join(repo, 'test/fixtures/object_info.json'), 'utf8')) as ObjectInfo;
const sd15 = readFileSync(path.join(shipped, 'sd15-txt2img.json'), 'utf8');
const uiDefault = readFileSync(path.join(repo, 'test/fixtures/ui/default-sd.json'), 'utf8');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'comfywire-templates-'));
  mkdirSync(path.join(dir, 'portraits'));
  writeFileSync(path.join(dir, 'plain.json'), sd15);
  writeFileSync(path.join(dir, 'portraits/headshot.json'), sd15);
  writeFileSync(path.join(dir, 'portraits/headshot.meta.json'), JSON.stringify({
    description: 'Head and shoulders.', parameters: { subject: { node: '6', input: 'text' } },
  }));
  writeFileSync(path.join(dir, 'editor.json'), uiDefault);
  writeFileSync(path.join(dir, 'broken.json'), '{\n  "3": {\n    "class_type": "KSampler",\n    "inputs": {}\n  },\n}\n');
  writeFileSync(path.join(dir, 'neither.json'), JSON.stringify({ hello: 'world' }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('listTemplates', () => {
  test('lists nested templates by relative name, skips sidecars, and collects problems per file', async () => {
    const listing = await listTemplates(dir, { objectInfo });
    expect(listing.templates.map((t) => t.name)).toEqual(['editor', 'plain', 'portraits/headshot']);
    expect(listing.problems.map((p) => p.name)).toEqual(['broken', 'neither']);
    const headshot = listing.templates.find((t) => t.name === 'portraits/headshot')!;
    expect(headshot).toMatchObject({ format: 'api', description: 'Head and shoulders.' });
    expect(headshot.parameters.map((p) => p.name)).toEqual(['subject']);
    expect(headshot.parameters[0]).toMatchObject({ type: 'string', targets: [{ nodeId: '6', input: 'text' }] });
    expect(listing.templates.find((t) => t.name === 'editor')!.format).toBe('ui');
    expect(listing).not.toHaveProperty('templates.0.prompt');
  });

  test('without object_info a UI template is a problem, API templates still list', async () => {
    const listing = await listTemplates(dir);
    expect(listing.templates.map((t) => t.name)).toEqual(['plain', 'portraits/headshot']);
    expect(listing.problems.find((p) => p.name === 'editor')!.message).toMatch(/object_info/);
  });

  test('a missing folder lists nothing', async () => {
    expect(await listTemplates(path.join(dir, 'nope'))).toEqual({ templates: [], problems: [] });
  });
});

describe('loadTemplate', () => {
  test('malformed JSON names the file, line and column and says what to fix', async () => {
    const error = await loadTemplate(dir, 'broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowInvalidError);
    const e = error as WorkflowInvalidError;
    expect(e.message).toMatch(/workflows\/broken\.json is not valid JSON at line 6, column 1/);
    expect(e.hint).toMatch(/trailing comma/);
    expect(e.context).toMatchObject({ line: 6, column: 1 });
  });

  test('a file in neither format says what the two formats look like', async () => {
    await expect(loadTemplate(dir, 'neither')).rejects.toThrow(/neither an API-format prompt nor a UI workflow/);
  });

  test('an unknown name lists the available templates', async () => {
    const error = (await loadTemplate(dir, 'plian').catch((e: unknown) => e)) as WorkflowNotFoundError;
    expect(error).toBeInstanceOf(WorkflowNotFoundError);
    expect(error.hint).toContain('plain, portraits/headshot');
  });

  test.each(['../etc/passwd', '/etc/passwd', 'portraits/../../x', 'portraits\\headshot', ''])('refuses %j', async (name) => {
    await expect(loadTemplate(dir, name)).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('accepts the name with .json and converts UI templates with object_info', async () => {
    expect((await loadTemplate(dir, 'plain.json')).name).toBe('plain');
    const editor = await loadTemplate(dir, 'editor', { objectInfo });
    expect(editor.prompt['3']!.inputs.seed).toBe(1234);
    expect(editor.parameters.map((p) => p.name)).toContain('prompt');
  });

  test('a sidecar targeting a node the workflow lacks is rejected with the node ids', async () => {
    writeFileSync(path.join(dir, 'plain.meta.json'), JSON.stringify({ parameters: { x: { node: '99', input: 'text' } } }));
    await expect(loadTemplate(dir, 'plain')).rejects.toThrow(/node 99/);
    writeFileSync(path.join(dir, 'plain.meta.json'), JSON.stringify({ parameters: { x: { node: '6' } } }));
    await expect(loadTemplate(dir, 'plain')).rejects.toThrow(/plain\.meta\.json is not a valid template sidecar/);
  });
});

describe('shipped templates', () => {
  test('sd15-txt2img: API format, SD 1.5 shape, declared parameters with realistic ranges', async () => {
    const t = await loadTemplate(shipped, 'sd15-txt2img', { objectInfo });
    expect(t.format).toBe('api');
    expect(t.prompt['4']!.inputs.ckpt_name).toBe('v1-5-pruned-emaonly.safetensors');
    expect(t.prompt['9']!.inputs.filename_prefix).toBe('comfywire/sd15');
    for (const node of Object.values(t.prompt)) expect(node._meta?.title).toBeTruthy();
    const byName = Object.fromEntries(t.parameters.map((p) => [p.name, p]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['prompt', 'negative_prompt', 'seed', 'steps', 'cfg', 'sampler', 'scheduler', 'width', 'height', 'batch_size', 'checkpoint']));
    expect(byName.steps).toMatchObject({ type: 'integer', min: 1, max: 150, default: 20 });
    expect(byName.cfg).toMatchObject({ type: 'number', min: 1, max: 30, default: 7 });
    expect(byName.width).toMatchObject({ min: 64, max: 2048, step: 8, default: 512 });
    expect(byName.seed).toMatchObject({ type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER });
    expect(byName.seed).not.toHaveProperty('default');
    expect(byName.sampler!.choices).toContain('dpmpp_2m');
  });

  test('sd15-img2img: LoadImage -> VAEEncode -> KSampler with denoise 0.6 and an image parameter', async () => {
    const t = await loadTemplate(shipped, 'sd15-img2img', { objectInfo });
    expect(t.prompt['11']).toMatchObject({ class_type: 'VAEEncode', inputs: { pixels: ['10', 0] } });
    expect(t.prompt['3']!.inputs).toMatchObject({ denoise: 0.6, latent_image: ['11', 0] });
    expect(t.parameters.find((p) => p.name === 'input_image')).toMatchObject({ type: 'image', targets: [{ nodeId: '10', input: 'image' }] });
    expect(t.parameters.find((p) => p.name === 'denoise')).toMatchObject({ min: 0, max: 1, default: 0.6 });
  });

  test('every shipped node type exists in a real server\'s object_info', async () => {
    // The recorded server could not import comfy_extras/nodes_upscale_model.py (no spandrel), so
    // its two core classes are checked against the simulator's copy of their 0.3.64 definition.
    const notRecorded = new Set(['UpscaleModelLoader', 'ImageUpscaleWithModel']);
    const simulated = buildObjectInfo({ checkpoints: [], inputImages: [] });
    const listing = await listTemplates(shipped, { objectInfo });
    expect(listing.problems).toEqual([]);
    expect(listing.templates.map((t) => t.name).sort()).toEqual([
      'multi-output', 'sd15-animation', 'sd15-img2img', 'sd15-inpaint', 'sd15-lora', 'sd15-txt2img', 'sd15-video', 'sdxl-txt2img', 'upscale',
    ]);
    for (const summary of listing.templates) {
      const t = await loadTemplate(shipped, summary.name, { objectInfo });
      for (const node of Object.values(t.prompt)) {
        if (notRecorded.has(node.class_type)) expect(simulated[node.class_type]?.python_module).toBe('comfy_extras.nodes_upscale_model');
        else expect(objectInfo[node.class_type]).toBeDefined();
      }
    }
  });
});
