/** Parameter detection (no sidecar) and applying values with validation. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiPrompt, ObjectInfo } from '../../src/comfy/types.js';
import { ParameterInvalidError } from '../../src/errors.js';
import { applyParameters } from '../../src/workflows/apply-parameters.js';
import { detectParameters } from '../../src/workflows/detect-parameters.js';
import { nearest } from '../../src/workflows/parameters.js';
import { loadTemplate } from '../../src/workflows/template-store.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const objectInfo = JSON.parse(readFileSync(path.join(repo, 'test/fixtures/object_info.json'), 'utf8')) as ObjectInfo;
const sd15 = JSON.parse(readFileSync(path.join(repo, 'workflows/sd15-txt2img.json'), 'utf8')) as ApiPrompt;
const img2img = JSON.parse(readFileSync(path.join(repo, 'workflows/sd15-img2img.json'), 'utf8')) as ApiPrompt;

function thrown(fn: () => unknown): ParameterInvalidError {
  try { fn(); } catch (e) { if (e instanceof ParameterInvalidError) return e; throw e; }
  throw new Error('expected a ParameterInvalidError');
}

describe('detectParameters', () => {
  test('finds the usual SD 1.5 knobs with types, ranges and choices from object_info', () => {
    const specs = detectParameters(sd15, objectInfo);
    const byName = Object.fromEntries(specs.map((s) => [s.name, s]));
    expect(Object.keys(byName)).toEqual(['prompt', 'negative_prompt', 'seed', 'steps', 'cfg', 'sampler', 'scheduler', 'denoise', 'checkpoint', 'width', 'height', 'batch_size']);
    expect(byName.prompt).toMatchObject({ type: 'string', targets: [{ nodeId: '6', input: 'text' }] });
    expect(byName.negative_prompt!.targets).toEqual([{ nodeId: '7', input: 'text' }]);
    expect(byName.seed).toEqual(expect.objectContaining({ type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER }));
    expect(byName.seed).not.toHaveProperty('default');
    expect(byName.steps).toMatchObject({ type: 'integer', min: 1, max: 10000, default: 20 });
    expect(byName.cfg).toMatchObject({ type: 'number', default: 7 });
    expect(byName.sampler).toMatchObject({ type: 'choice', default: 'euler', targets: [{ nodeId: '3', input: 'sampler_name' }] });
    expect(byName.sampler!.choices).toContain('euler_ancestral');
    expect(byName.width).toMatchObject({ type: 'integer', default: 512, min: 16, step: 8 });
  });

  test('finds encoders through intermediate nodes, LoadImage as input_image, and works without object_info', () => {
    const prompt = structuredClone(img2img);
    prompt['20'] = { class_type: 'ConditioningSetAreaStrength', inputs: { conditioning: ['6', 0], strength: 1 } };
    prompt['3']!.inputs.positive = ['20', 0];
    const specs = detectParameters(prompt);
    const byName = Object.fromEntries(specs.map((s) => [s.name, s]));
    expect(byName.prompt!.targets).toEqual([{ nodeId: '6', input: 'text' }]);
    expect(byName.input_image).toMatchObject({ type: 'image', default: 'example.png', targets: [{ nodeId: '10', input: 'image' }] });
    expect(byName.denoise).toMatchObject({ type: 'number', default: 0.6 });
    expect(byName.sampler).toMatchObject({ type: 'choice', default: 'euler' });
    expect(byName.width).toBeUndefined();
  });

  test('settings shared by two samplers target both; a differing value (hires pass) is left alone', () => {
    const prompt = structuredClone(sd15);
    prompt['30'] = { class_type: 'KSampler', inputs: { ...prompt['3']!.inputs, denoise: 0.5, latent_image: ['3', 0] } };
    const byName = Object.fromEntries(detectParameters(prompt, objectInfo).map((s) => [s.name, s]));
    expect(byName.steps!.targets).toEqual([{ nodeId: '3', input: 'steps' }, { nodeId: '30', input: 'steps' }]);
    expect(byName.denoise!.targets).toEqual([{ nodeId: '3', input: 'denoise' }]);
    expect(byName.prompt!.targets).toEqual([{ nodeId: '6', input: 'text' }]);
  });
});

describe('applyParameters', () => {
  const load = () => loadTemplate(path.join(repo, 'workflows'), 'sd15-txt2img', { objectInfo });

  test('injects values into a copy, coerces numeric strings, reports effective values', async () => {
    const template = await load();
    const before = JSON.stringify(template.prompt);
    const { prompt, values } = applyParameters(template, { prompt: 'a cat', steps: '30', cfg: '6.5', seed: 42, width: 768 }, { objectInfo });
    expect(prompt['6']!.inputs.text).toBe('a cat');
    expect(prompt['3']!.inputs).toMatchObject({ steps: 30, cfg: 6.5, seed: 42 });
    expect(prompt['5']!.inputs.width).toBe(768);
    expect(values).toMatchObject({ prompt: 'a cat', steps: 30, cfg: 6.5, seed: 42, width: 768, height: 512, sampler: 'euler' });
    expect(values.negative_prompt).toBe('blurry, low quality, watermark, text');
    expect(JSON.stringify(template.prompt)).toBe(before);
  });

  test('draws a JS-safe random seed when none is given and reports it', async () => {
    const template = await load();
    const { prompt, values } = applyParameters(template, {}, { random: () => 0.5 });
    expect(values.seed).toBe(2 ** 52);
    expect(prompt['3']!.inputs.seed).toBe(2 ** 52);
    const top = applyParameters(template, {}, { random: () => 1 - 2 ** -53 }).values.seed as number;
    expect(top).toBe(Number.MAX_SAFE_INTEGER);
    const real = applyParameters(template, {}).values.seed as number;
    expect(Number.isSafeInteger(real) && real >= 0).toBe(true);
  });

  test('an unknown parameter names the valid ones and the nearest', async () => {
    const e = thrown(() => applyParameters({ name: 't', prompt: sd15, parameters: detectParameters(sd15) }, { stesp: 10 }));
    expect(e.message).toContain('no parameter "stesp"');
    expect(e.hint).toMatch(/Did you mean "steps"\?/);
    expect(e.hint).toMatch(/prompt, negative_prompt, seed/);
  });

  test('out of range says the allowed range; declared and object_info ranges both apply', async () => {
    const template = await load();
    expect(thrown(() => applyParameters(template, { steps: 200 })).message).toBe('steps must be between 1 and 150; got 200.');
    expect(thrown(() => applyParameters(template, { width: 500 })).hint).toBe('Use 496 or 504.');
    expect(thrown(() => applyParameters(template, { steps: 2.5 })).message).toMatch(/whole number/);
    const open = { name: 'x', prompt: sd15, parameters: [{ name: 'steps', type: 'integer' as const, targets: [{ nodeId: '3', input: 'steps' }] }] };
    expect(thrown(() => applyParameters(open, { steps: 20000 }, { objectInfo })).message)
      .toBe('steps must be between 1 and 10000 for KSampler.steps on this ComfyUI; got 20000.');
  });

  test('a bad choice lists the nearest valid ones, from the declaration or from object_info', async () => {
    const template = await load();
    const e = thrown(() => applyParameters(template, { sampler: 'Euler_A' }, { objectInfo }));
    expect(e.message).toMatch(/sampler "Euler_A" is not an allowed value/);
    expect(e.hint).toMatch(/Did you mean "euler"/);
    const e2 = thrown(() => applyParameters(template, { checkpoint: 'sd15.safetensors' }, { objectInfo }));
    expect(e2.message).toMatch(/for CheckpointLoaderSimple\.ckpt_name on this ComfyUI/);
    expect(e2.hint).toMatch(/none is installed/);
  });

  test('V3 ["COMBO", {options}] inputs are checked too', () => {
    const prompt: ApiPrompt = { '1': { class_type: 'ImageBlend', inputs: { blend_mode: 'normal' } } };
    const parameters = detectParameters(prompt, objectInfo);
    const template = { name: 'v3', prompt, parameters: [{ name: 'mode', type: 'choice' as const, targets: [{ nodeId: '1', input: 'blend_mode' }] }, ...parameters] };
    expect(applyParameters(template, { mode: 'screen' }, { objectInfo }).prompt['1']!.inputs.blend_mode).toBe('screen');
    expect(thrown(() => applyParameters(template, { mode: 'multipy' }, { objectInfo })).hint).toMatch(/"multiply"/);
  });

  test('booleans from strings are strict ("false" is false, not truthy)', () => {
    const prompt: ApiPrompt = { '1': { class_type: 'ModelSamplingDiscrete', inputs: { sampling: 'eps', zsnr: true } } };
    const template = { name: 'b', prompt, parameters: [{ name: 'zsnr', type: 'boolean' as const, targets: [{ nodeId: '1', input: 'zsnr' }] }] };
    expect(applyParameters(template, { zsnr: 'false' }).prompt['1']!.inputs.zsnr).toBe(false);
    expect(thrown(() => applyParameters(template, { zsnr: 'maybe' })).message).toMatch(/true or false/);
  });
});

describe('nearest', () => {
  test('case-insensitive match first, then containment, then small edit distances; nothing far away', () => {
    expect(nearest('EULER', ['euler', 'euler_ancestral', 'heun'])).toEqual(['euler', 'euler_ancestral']);
    expect(nearest('stesp', ['steps', 'seed', 'cfg'])).toEqual(['steps']);
    expect(nearest('zzzzzz', ['steps', 'seed'])).toEqual([]);
  });
});
