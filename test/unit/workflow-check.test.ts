/** checkPrompt: every way a workflow can fail ComfyUI's validation, each named by node, class, input and fix. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiPrompt, ObjectInfo } from '../../src/comfy/types.js';
import { buildObjectInfo } from '../../src/simulator/object-info.js';
import { checkPrompt, describeProblem, type PromptProblem } from '../../src/workflows/check-prompt.js';
import { convertUiToApi } from '../../src/workflows/ui-to-api.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sd15 = JSON.parse(readFileSync(path.join(repo, 'workflows/sd15-txt2img.json'), 'utf8')) as ApiPrompt;
const img2img = JSON.parse(readFileSync(path.join(repo, 'workflows/sd15-img2img.json'), 'utf8')) as ApiPrompt;
const objectInfo = buildObjectInfo({ checkpoints: ['sd15-random.safetensors'], inputImages: ['cat.png'] });

/** The shipped template with one change. */
function edited(change: (p: ApiPrompt) => void): ApiPrompt {
  const prompt = structuredClone(sd15);
  change(prompt);
  return prompt;
}

function only(problems: PromptProblem[]): PromptProblem {
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

test('the shipped template passes; a checkpoint the server lacks is a warning that says how generation fills it in', () => {
  const check = checkPrompt(sd15, objectInfo);
  expect(check.problems).toEqual([]);
  expect(check.outputNodes).toEqual(['9']);
  const w = only(check.warnings);
  expect(w).toMatchObject({ kind: 'not_a_choice', nodeId: '4', classType: 'CheckpointLoaderSimple', input: 'ckpt_name' });
  expect(describeProblem(w)).toMatch(/^node "4" \(CheckpointLoaderSimple\), input "ckpt_name": "v1-5-pruned-emaonly.safetensors" is not one of its choices \(the server offers "sd15-random.safetensors"\)\. Pass checkpoint to generate_image/);

  // With the checkpoint installed, nothing at all.
  const fixed = edited((p) => (p['4']!.inputs.ckpt_name = 'sd15-random.safetensors'));
  expect(checkPrompt(fixed, objectInfo)).toEqual({ problems: [], warnings: [], outputNodes: ['9'] });
});

test('against a real ComfyUI 0.3.64 /object_info, the shipped templates and the complete UI fixture pass', () => {
  const real = JSON.parse(readFileSync(path.join(repo, 'test/fixtures/object_info.json'), 'utf8')) as ObjectInfo;
  expect(checkPrompt(sd15, real).problems).toEqual([]);
  expect(checkPrompt(img2img, real).problems).toEqual([]);
  // The other UI fixtures are fragments made to exercise one conversion rule each.
  const ui = JSON.parse(readFileSync(path.join(repo, 'test/fixtures/ui/default-sd.json'), 'utf8')) as unknown;
  expect(checkPrompt(convertUiToApi(ui, real).prompt, real).problems.map(describeProblem)).toEqual([]);
});

test('an image the input folder lacks is a warning: input_image supplies it', () => {
  const check = checkPrompt(img2img, objectInfo);
  const loader = check.warnings.find((w) => w.classType === 'LoadImage')!;
  expect(loader).toMatchObject({ kind: 'not_a_choice', input: 'image' });
  expect(loader.fix).toMatch(/input_image/);
  expect(check.problems).toEqual([]);
});

test('unknown class: named with a close match and what to install', () => {
  const p = only(checkPrompt(edited((p) => (p['8']!.class_type = 'VAEDecod')), objectInfo).problems);
  expect(p).toMatchObject({ kind: 'unknown_class', nodeId: '8', classType: 'VAEDecod' });
  expect(describeProblem(p)).toBe(
    'node "8" (VAEDecod): this ComfyUI server has no node class of that name. Did you mean VAEDecode or VAEDecodeAudio? Otherwise install the custom ' +
      'node pack that provides it (e.g. with ComfyUI-Manager) and restart ComfyUI, or remove the node.',
  );
});

test('a required input missing: widget inputs ask for a value, sockets for a link of the right type (with candidates)', () => {
  const steps = only(checkPrompt(edited((p) => delete p['3']!.inputs.steps), objectInfo).problems);
  expect(describeProblem(steps)).toBe('node "3" (KSampler), input "steps": this required input (INT) is missing. Give it a value.');
  const model = only(checkPrompt(edited((p) => delete p['3']!.inputs.model), objectInfo).problems);
  expect(describeProblem(model)).toBe(
    'node "3" (KSampler), input "model": this required input (MODEL) is missing. Link it to an output of type MODEL, e.g. node "4" output 0 (MODEL): [node_id, output_index].',
  );
  const sampler = only(checkPrompt(edited((p) => delete p['3']!.inputs.sampler_name), objectInfo).problems);
  expect(describeProblem(sampler)).toMatch(/input "sampler_name": this required input \(COMBO\) is missing\. Give it a value \(one of "euler", /);
});

test('links: to a missing node, to an output index the source lacks, to an output of the wrong type, and not a link at all', () => {
  const missing = only(checkPrompt(edited((p) => (p['3']!.inputs.model = ['99', 0])), objectInfo).problems);
  expect(missing).toMatchObject({ kind: 'link_to_missing_node', nodeId: '3', input: 'model' });
  expect(describeProblem(missing)).toBe(
    'node "3" (KSampler), input "model": it links to node "99", which the workflow does not have. Link it to an existing node\'s MODEL output, e.g. node "4" output 0 (MODEL), or add the missing node.',
  );

  const slot = only(checkPrompt(edited((p) => (p['3']!.inputs.model = ['4', 7])), objectInfo).problems);
  expect(describeProblem(slot)).toBe(
    'node "3" (KSampler), input "model": it links to output 7 of node "4" (CheckpointLoaderSimple), which has outputs 0..2 (MODEL, CLIP, VAE). Use the index of one of those outputs.',
  );

  const type = only(checkPrompt(edited((p) => (p['3']!.inputs.model = ['4', 1])), objectInfo).problems);
  expect(type).toMatchObject({ kind: 'link_type_mismatch' });
  expect(describeProblem(type)).toBe(
    'node "3" (KSampler), input "model": it links to output 1 of node "4" (CheckpointLoaderSimple), a CLIP, but the input takes MODEL. Link it to a MODEL output instead, e.g. node "4" output 0 (MODEL).',
  );

  const shape = only(checkPrompt(edited((p) => (p['3']!.inputs.model = ['4', 0, 1])), objectInfo).problems);
  expect(describeProblem(shape)).toMatch(/^node "3" \(KSampler\), input "model": \["4",0,1\] is not a link\. A link is \["<node id>", <output index>\]/);

  const constant = only(checkPrompt(edited((p) => (p['3']!.inputs.model = 'sd15.safetensors')), objectInfo).problems);
  expect(describeProblem(constant)).toBe(
    'node "3" (KSampler), input "model": a MODEL input takes a link, not the value "sd15.safetensors". Link it to an output of type MODEL, e.g. node "4" output 0 (MODEL): [node_id, output_index].',
  );
});

test('values: below min, above max, wrong type, a fraction for an INT, not a choice (with the nearest choice)', () => {
  const low = only(checkPrompt(edited((p) => (p['3']!.inputs.steps = 0)), objectInfo).problems);
  expect(describeProblem(low)).toBe('node "3" (KSampler), input "steps": 0 is below the minimum 1. Use a value from 1 to 10000.');
  const high = only(checkPrompt(edited((p) => (p['3']!.inputs.cfg = 1000)), objectInfo).problems);
  expect(describeProblem(high)).toBe('node "3" (KSampler), input "cfg": 1000 is above the maximum 100. Use a value from 0 to 100.');
  const text = only(checkPrompt(edited((p) => (p['3']!.inputs.steps = 'many')), objectInfo).problems);
  expect(describeProblem(text)).toBe('node "3" (KSampler), input "steps": got "many"; expected a whole number (INT). Set it to a value of that type.');
  const fraction = only(checkPrompt(edited((p) => (p['5']!.inputs.width = 512.5)), objectInfo).problems);
  expect(fraction).toMatchObject({ kind: 'wrong_type', nodeId: '5', classType: 'EmptyLatentImage', input: 'width' });
  const choice = only(checkPrompt(edited((p) => (p['3']!.inputs.sampler_name = 'eulr')), objectInfo).problems);
  expect(describeProblem(choice)).toMatch(/^node "3" \(KSampler\), input "sampler_name": "eulr" is not one of its choices \(the server offers "euler", .* and \d+ more\)\. Did you mean "euler"/);
  // Numbers as text convert the way ComfyUI's int() does: not a problem.
  expect(checkPrompt(edited((p) => (p['3']!.inputs.steps = '25')), objectInfo).problems).toEqual([]);
});

test('no output node: one finding for the workflow, saying what to add; not claimed when an unknown class may be the output', () => {
  const none = only(checkPrompt(edited((p) => delete p['9']), objectInfo).problems);
  expect(none.nodeId).toBeUndefined();
  expect(describeProblem(none)).toMatch(/^workflow: it has no output node, and ComfyUI runs nothing for a workflow without one\. Add one \(SaveImage or PreviewImage\)/);
  const unknown = checkPrompt(edited((p) => (p['9']!.class_type = 'SaveImageExtended')), objectInfo);
  expect(unknown.problems.map((p) => p.kind)).toEqual(['unknown_class']);
});

test('every problem of a broken workflow at once, in node order then input order; inputs a class lacks are warnings', () => {
  const check = checkPrompt(
    edited((p) => {
      p['3']!.inputs.steps = -1;
      p['3']!.inputs.model = ['42', 0];
      p['5']!.inputs.height = 'tall';
      p['6']!.inputs.colour = 'red';
      p['10'] = { class_type: 'NotANode', inputs: {} };
    }),
    objectInfo,
  );
  expect(check.problems.map((p) => [p.nodeId, p.input, p.kind])).toEqual([
    ['3', 'model', 'link_to_missing_node'],
    ['3', 'steps', 'below_min'],
    ['5', 'height', 'wrong_type'],
    ['10', undefined, 'unknown_class'],
  ]);
  expect(check.warnings.map((w) => [w.nodeId, w.input, w.kind])).toEqual([
    ['4', 'ckpt_name', 'not_a_choice'],
    ['6', 'colour', 'unknown_input'],
  ]);
});

test('custom widget types and type unions take constants, as ComfyUI passes them on unchecked; a missing one asks for a value', () => {
  const info = structuredClone(objectInfo);
  info.ColourPick = {
    input: { required: { colour: ['COLOR_PICKER', {}], amount: ['INT,FLOAT', { min: 0 }], image: ['IMAGE'] } },
    output: ['IMAGE'],
    output_name: ['IMAGE'],
    name: 'ColourPick',
    output_node: false,
  };
  const withNode = (inputs: Record<string, unknown>) => edited((p) => (p['10'] = { class_type: 'ColourPick', inputs }));
  expect(checkPrompt(withNode({ colour: '#ff0000', amount: 0.5, image: ['8', 0] }), info).problems).toEqual([]);
  const missing = only(checkPrompt(withNode({ amount: 2, image: ['8', 0] }), info).problems);
  expect(describeProblem(missing)).toBe('node "10" (ColourPick), input "colour": this required input (COLOR_PICKER) is missing. Give it a value.');
  // IMAGE is a type nodes output: a constant there is refused.
  const constant = only(checkPrompt(withNode({ colour: '#fff', amount: 1, image: 'cat.png' }), info).problems);
  expect(constant).toMatchObject({ kind: 'not_linked', input: 'image' });
});

test('caller text in messages is cut short', () => {
  const long = 'x'.repeat(5000);
  const check = checkPrompt(edited((p) => (p['3']!.inputs.sampler_name = long)), objectInfo);
  const text = describeProblem(only(check.problems));
  expect(text.length).toBeLessThan(600);
  expect(text).toContain('…');
});
