import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { REPO, startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * upload_workflow through a real MCP client against the simulator: a UI-format workflow
 * converted, checked, saved, listed and generated from; each refusal named precisely, with
 * nothing written and the server still answering.
 */

const uiWorkflow = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/ui/default-sd.json'), 'utf8')) as Record<string, unknown>;
const apiText = readFileSync(path.join(REPO, 'workflows/sd15-txt2img.json'), 'utf8');
const api = (): Record<string, { class_type: string; inputs: Record<string, unknown> }> => JSON.parse(apiText);

let h: Harness;
let dir: string;
let listChanged = 0;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'comfywire-upload-'));
  h = await startHarness({ stepDelayMs: 5, env: { COMFYWIRE_WORKFLOWS_DIR: dir } });
  h.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
    listChanged++;
  });
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

const files = (): string[] => readdirSync(dir).sort();

/** The server still answers after a refusal. */
async function stillServing(): Promise<void> {
  const r = await h.call('list_workflows', { include_comfyui: false });
  expect(r.isError).toBeFalsy();
}

interface Uploaded {
  name: string;
  file: string;
  meta_file?: string;
  format: string;
  replaced: boolean;
  parameters: Array<{ name: string; type: string; default?: unknown; choices?: string[] }>;
  output_nodes: string[];
  warnings: string[];
}

test('a UI-format workflow: converted, checked, saved, listed, announced and generated from', async () => {
  const before = listChanged;
  const r = await h.call('upload_workflow', { name: 'fox-ui', workflow: uiWorkflow });
  expect(r.isError).toBeFalsy();
  const out = r.structuredContent as unknown as Uploaded;
  expect(out).toMatchObject({ name: 'fox-ui', file: path.join(dir, 'fox-ui.json'), format: 'ui', replaced: false, output_nodes: ['9'] });
  expect(out.parameters.map((p) => p.name)).toEqual(
    expect.arrayContaining(['prompt', 'negative_prompt', 'seed', 'steps', 'cfg', 'sampler', 'scheduler', 'width', 'height', 'checkpoint']),
  );
  expect(out.parameters.find((p) => p.name === 'prompt')).toMatchObject({ type: 'string', default: 'a red fox in the snow' });
  expect(out.parameters.find((p) => p.name === 'sampler')!.choices).toContain('dpmpp_2m');
  // The fixture's checkpoint is not on the simulator: said, not refused (generation picks an installed one).
  expect(out.warnings).toEqual([expect.stringMatching(/^node "4" \(CheckpointLoaderSimple\), input "ckpt_name": "sd15.safetensors" is not one of its choices/)]);
  expect(textOf(r)).toMatch(/converted from UI format to API format/);
  expect(textOf(r)).toMatch(/Next: generate_image \{"workflow":"fox-ui","prompt":"<what to generate>"\}/);

  // Saved as the API prompt that was checked.
  const saved = JSON.parse(readFileSync(out.file, 'utf8')) as Record<string, { class_type: string }>;
  expect(saved['3']?.class_type).toBe('KSampler');
  expect(files()).toEqual(['fox-ui.json']);

  expect(listChanged).toBe(before + 1);
  const listed = await h.call('list_workflows', { include_comfyui: false });
  expect((listed.structuredContent as { workflows: Array<{ name: string; format: string }> }).workflows).toContainEqual(
    expect.objectContaining({ name: 'fox-ui', format: 'api' }),
  );
  const { resources } = await h.client.listResources();
  expect(resources.map((x) => x.uri)).toContain('comfywire://workflows/fox-ui');

  const gen = await h.call('generate_image', { workflow: 'fox-ui', prompt: 'a fox in a meadow', steps: 2, width: 64, height: 64, batch_size: 1 });
  expect(textOf(gen)).not.toMatch(/failed/i);
  expect(gen.structuredContent).toMatchObject({ status: 'success', workflow: 'fox-ui' });
  expect((gen.structuredContent as { files: unknown[] }).files).toHaveLength(1);
});

test('an API workflow as JSON text with a sidecar: description and declared parameters only', async () => {
  const r = await h.call('upload_workflow', {
    name: 'lighthouse',
    workflow: apiText,
    description: 'A lighthouse, any weather.',
    parameters: { subject: { node: '6', input: 'text', description: 'What is on the coast.' }, steps: { node: '3', input: 'steps', max: 40 } },
  });
  expect(r.isError).toBeFalsy();
  const out = r.structuredContent as unknown as Uploaded;
  expect(out).toMatchObject({ format: 'api', meta_file: path.join(dir, 'lighthouse.meta.json') });
  expect(out.parameters.map((p) => p.name)).toEqual(['subject', 'steps']);
  expect(JSON.parse(readFileSync(out.meta_file!, 'utf8'))).toEqual({
    description: 'A lighthouse, any weather.',
    parameters: { subject: { node: '6', input: 'text', description: 'What is on the coast.' }, steps: { node: '3', input: 'steps', max: 40 } },
  });
  const listed = await h.call('list_workflows', { include_comfyui: false });
  expect(textOf(listed)).toMatch(/- lighthouse \(api\): A lighthouse, any weather\.\n {2}- subject: string/);

  // A sidecar aimed at a node the workflow lacks: named, nothing written.
  const bad = await h.call('upload_workflow', { name: 'lighthouse-2', workflow: api(), parameters: { subject: { node: '60', input: 'text' } } });
  expect(bad.isError).toBe(true);
  expect(textOf(bad)).toMatch(/parameter "subject" targets node 60, which the workflow does not have\.\nNode ids in this workflow: 3, 4, 5, 6, 7, 8, 9\./);
  expect(files()).not.toContain('lighthouse-2.json');
});

test('every validation failure is named by node, class and input, with what to do; nothing is written; the server keeps serving', async () => {
  const broken = api();
  broken['3']!.inputs.model = ['4', 1]; // a CLIP where a MODEL goes
  broken['3']!.inputs.positive = ['66', 0]; // no node 66
  delete broken['3']!.inputs.steps; // required
  broken['3']!.inputs.cfg = 250; // max 100
  broken['3']!.inputs.sampler_name = 'eulerr'; // not a choice
  broken['5']!.inputs.width = 0; // min 16
  broken['8']!.class_type = 'VAEDecodeTurbo'; // not installed
  delete broken['9']; // and then no output node? No: an unknown class may be one, so that is not claimed
  const before = files();
  const r = await h.call('upload_workflow', { name: 'broken', workflow: broken });
  expect(r.isError).toBe(true);
  const text = textOf(r);
  expect(text).toMatch(/^workflow "broken" would be refused by this ComfyUI server: 7 problems; nothing was saved\./);
  const expected = [
    /- node "3" \(KSampler\), input "model": it links to output 1 of node "4" \(CheckpointLoaderSimple\), a CLIP, but the input takes MODEL\. Link it to a MODEL output instead, e\.g\. node "4" output 0 \(MODEL\)\./,
    /- node "3" \(KSampler\), input "steps": this required input \(INT\) is missing\. Give it a value\./,
    /- node "3" \(KSampler\), input "cfg": 250 is above the maximum 100\. Use a value from 0 to 100\./,
    /- node "3" \(KSampler\), input "sampler_name": "eulerr" is not one of its choices \(.*\)\. Did you mean "euler"/,
    /- node "3" \(KSampler\), input "positive": it links to node "66", which the workflow does not have\. Link it to an existing node's CONDITIONING output, e\.g\. node "6" output 0 \(CONDITIONING\)/,
    /- node "5" \(EmptyLatentImage\), input "width": 0 is below the minimum 16\. Use a value from 16 to 16384\./,
    /- node "8" \(VAEDecodeTurbo\): this ComfyUI server has no node class of that name\. Did you mean VAEDecode.*install the custom node pack/,
  ];
  for (const line of expected) expect(text).toMatch(line);
  expect(text).toMatch(/\nFix each one and upload again/);
  expect(files()).toEqual(before);
  await stillServing();

  // No output node at all.
  const headless = api();
  delete headless['9'];
  const none = await h.call('upload_workflow', { name: 'headless', workflow: headless });
  expect(textOf(none)).toMatch(/1 problem; nothing was saved\.\n- workflow: it has no output node.*Add one \(SaveImage or PreviewImage\)/);
});

test('the UI conversion names unknown node types; text that is not JSON gets its line and column; a stranger JSON is neither format', async () => {
  const unknown = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/ui/unknown-node.json'), 'utf8')) as Record<string, unknown>;
  const r = await h.call('upload_workflow', { name: 'upscale', workflow: unknown });
  expect(r.isError).toBe(true);
  expect(textOf(r)).toMatch(/uses node types this ComfyUI server does not know: node 1 "Upscale" \(type SuperUpscaler9000\)/);

  const text = await h.call('upload_workflow', { name: 'typo', workflow: '{\n  "3": {"class_type": "KSampler",}\n}' });
  expect(textOf(text)).toMatch(/^workflow "typo" is not valid JSON at line 2, column \d+/);

  const neither = await h.call('upload_workflow', { name: 'neither', workflow: { hello: 'world' } });
  expect(textOf(neither)).toMatch(/is neither an API-format prompt nor a UI workflow/);
  expect(files()).not.toEqual(expect.arrayContaining(['upscale.json', 'typo.json', 'neither.json']));
  await stillServing();
});

test('an existing name is refused unless overwrite is true; then it is replaced and its old sidecar goes', async () => {
  const first = await h.call('upload_workflow', { name: 'keep', workflow: api(), description: 'First.' });
  expect(first.isError).toBeFalsy();
  const original = readFileSync(path.join(dir, 'keep.json'), 'utf8');

  const changed = api();
  changed['3']!.inputs.steps = 12;
  const refused = await h.call('upload_workflow', { name: 'keep', workflow: changed });
  expect(refused.isError).toBe(true);
  expect(textOf(refused)).toBe(
    `A workflow template named "keep" already exists (${path.join(dir, 'keep.json')}); nothing was saved.\n` +
      'Pass overwrite: true to replace it (its sidecar too), or choose another name. list_workflows shows the names in use.',
  );
  expect(readFileSync(path.join(dir, 'keep.json'), 'utf8')).toBe(original);
  expect(files()).toContain('keep.meta.json');

  const replaced = await h.call('upload_workflow', { name: 'keep', workflow: changed, overwrite: true });
  expect(replaced.structuredContent).toMatchObject({ replaced: true });
  expect(textOf(replaced)).toMatch(/replacing the template of that name/);
  expect(textOf(replaced)).toMatch(/Removed the sidecar .*keep\.meta\.json: it described the workflow saved under this name before\./);
  expect(files()).not.toContain('keep.meta.json');
  expect(JSON.parse(readFileSync(path.join(dir, 'keep.json'), 'utf8'))['3'].inputs.steps).toBe(12);
});

test.each([
  ['../outside', /contains a path separator/],
  ['nested/name', /contains a path separator/],
  ['fox.json', /contains a dot; leave out "\.json"/],
  ['aux', /reserved on Windows/],
  ['', /The name is empty/],
  ['x'.repeat(10_000), /is 10000 characters long/],
])('the name %#: refused before anything is read or written, in a short message', async (name, why) => {
  const before = files();
  const r = await h.call('upload_workflow', { name, workflow: api() });
  expect(r.isError).toBe(true);
  expect(textOf(r)).toMatch(why);
  expect(textOf(r).length).toBeLessThan(400);
  expect(files()).toEqual(before);
  expect(readdirSync(path.dirname(dir)).filter((f) => f === 'outside.json')).toEqual([]);
  await stillServing();
});

// Found by mcp-fuzz.test.ts's schema-made calls: a control character was saved into the sidecar, zod's
// "Cannot read properties of null" reached the caller, and a "__proto__" parameter vanished without a word.
test.each([
  ['a control character in the description', { description: 'a fox\u0000' }, /description contains a control character \(U\+0000 NUL\)/],
  ['a workflow whose own "constructor" is null', { workflow: { constructor: null } }, /workflow/],
  ['a workflow that is neither an object nor text', { workflow: 5 }, /workflow must be a JSON object or JSON text; got 5/],
  ['a parameter named "__proto__"', { parameters: JSON.parse('{"__proto__":{"node":"3","input":"seed"}}') as unknown }, /parameters\.__proto__: every JavaScript object has/],
  ['a parameter named "constructor"', { parameters: { constructor: { node: '3', input: 'seed' } } }, /parameters\.constructor: every JavaScript object has/],
])('%s: refused with the field named, nothing written', async (_label, change, why) => {
  const before = files();
  const r = await h.call('upload_workflow', { name: 'fuzz-found', workflow: api(), ...change });
  expect(r.isError).toBe(true);
  expect(textOf(r)).toMatch(why);
  expect(textOf(r)).not.toMatch(/Cannot read properties/);
  expect(files()).toEqual(before);
  await stillServing();
});

test('the size limit, both sides: 5,000,000 characters are taken, one more is refused by its size, not echoed', async () => {
  const sized = (chars: number): string => {
    const w = api();
    w['6']!.inputs.text = '';
    const base = JSON.stringify(w).length;
    w['6']!.inputs.text = 'x'.repeat(chars - base);
    return JSON.stringify(w);
  };
  const atLimit = sized(5_000_000);
  expect(atLimit.length).toBe(5_000_000);
  const ok = await h.call('upload_workflow', { name: 'big', workflow: atLimit });
  expect(ok.isError).toBeFalsy();
  // The 5 MB prompt is the prompt parameter's default: the text shows the start of it.
  expect(textOf(ok).length).toBeLessThan(5_000);
  expect(textOf(ok)).toMatch(/- prompt: string \(default "x{20,}…"\)/);
  rmSync(path.join(dir, 'big.json'));

  const over = sized(5_000_001);
  const r = await h.call('upload_workflow', { name: 'huge', workflow: over });
  expect(r.isError).toBe(true);
  expect(textOf(r)).toMatch(/^The workflow is 5000001 characters of JSON; the limit is 5000000\. Nothing was saved\./);
  expect(textOf(r).length).toBeLessThan(400);
  expect(files()).not.toContain('huge.json');
  await stillServing();
});

test('ComfyUI down: refused (it cannot be checked), nothing written', async () => {
  const downDir = mkdtempSync(path.join(tmpdir(), 'comfywire-upload-down-'));
  const down = await startHarness({ comfyDown: true, env: { COMFYWIRE_WORKFLOWS_DIR: downDir } });
  try {
    const r = await down.call('upload_workflow', { name: 'offline', workflow: api() });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/ComfyUI is not reachable at http:\/\/127\.0\.0\.1:9/);
    expect(readdirSync(downDir)).toEqual([]);
  } finally {
    await down.close();
    rmSync(downDir, { recursive: true, force: true });
  }
});

test('the templates shipped inside an installed package are not written to (an upgrade would lose the upload)', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'comfywire-upload-pkg-'));
  const shipped = path.join(root, 'lib', 'node_modules', 'comfywire', 'workflows');
  const own = path.join(root, 'node_modules-like', 'workflows');
  for (const d of [shipped, own]) mkdirSync(d, { recursive: true });
  const inPackage = await startHarness({ env: { COMFYWIRE_WORKFLOWS_DIR: shipped } });
  const beside = await startHarness({ shareWith: inPackage, env: { COMFYWIRE_WORKFLOWS_DIR: own } });
  try {
    const r = await inPackage.call('upload_workflow', { name: 'mine', workflow: api() });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(
      `The workflows folder is the one shipped inside the installed comfywire package (${shipped}): a template saved there would be ` +
        'lost at the next upgrade. Nothing was saved.\nSet COMFYWIRE_WORKFLOWS_DIR to a folder of your own (copy the shipped templates ' +
        'into it to keep them), or start the server in a folder that has a workflows/ subfolder; then upload again.',
    );
    expect(readdirSync(shipped)).toEqual([]);
    // A folder whose name merely resembles one is the user's own: saved.
    const ok = await beside.call('upload_workflow', { name: 'mine', workflow: api() });
    expect(ok.isError).toBeFalsy();
    expect(readdirSync(own)).toContain('mine.json');
  } finally {
    await beside.close();
    await inPackage.close();
    rmSync(root, { recursive: true, force: true });
  }
});
