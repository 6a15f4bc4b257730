/** UI -> API conversion of hand-written fixtures (test/fixtures/ui), against expected prompts derived by hand. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectInfo } from '../../src/comfy/types.js';
import { WorkflowInvalidError } from '../../src/errors.js';
import { convertUiToApi } from '../../src/workflows/ui-to-api.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const objectInfo = JSON.parse(readFileSync(path.join(fixtures, 'object_info.json'), 'utf8')) as ObjectInfo;
const ui = (name: string): unknown => JSON.parse(readFileSync(path.join(fixtures, 'ui', name), 'utf8'));
const convert = (name: string) => convertUiToApi(ui(name), objectInfo, name);

describe('convertUiToApi', () => {
  test('default SD graph: widgets by input order, control slot skipped, titles, fanned-out CLIP', () => {
    expect(convert('default-sd.json').prompt).toEqual({
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' }, _meta: { title: 'Load Checkpoint' } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a red fox in the snow', clip: ['4', 1] }, _meta: { title: 'Positive' } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] }, _meta: { title: 'CLIP Text Encode (Prompt)' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 768, height: 512, batch_size: 2 }, _meta: { title: 'Empty Latent Image' } },
      '3': {
        class_type: 'KSampler',
        inputs: { seed: 1234, steps: 25, cfg: 6.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1,
          model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
        _meta: { title: 'KSampler' },
      },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] }, _meta: { title: 'VAE Decode' } },
      '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'fox', images: ['8', 0] }, _meta: { title: 'Save Image' } },
    });
  });

  test('a chain of Reroutes resolves to the real origin and the Reroutes are dropped', () => {
    const { prompt } = convert('reroute.json');
    expect(Object.keys(prompt).sort()).toEqual(['1', '2']);
    expect(prompt['2']!.inputs).toEqual({ vae: ['1', 2] });
  });

  test('PrimitiveNodes are inlined as constants (number and combo), replacing stale widget values', () => {
    const { prompt } = convert('primitive.json');
    expect(Object.keys(prompt)).toEqual(['3']);
    expect(prompt['3']!.inputs).toEqual({ seed: 77, steps: 20, cfg: 8, sampler_name: 'dpmpp_2m', scheduler: 'normal', denoise: 1 });
  });

  test('a bypassed node passes its inputs through by type; with no matching input the consumer input is dropped', () => {
    const { prompt } = convert('bypass.json');
    expect(Object.keys(prompt).sort()).toEqual(['1', '2', '3', '4']);
    expect(prompt['3']!.inputs).toEqual({ model: ['1', 0], sampling: 'eps', zsnr: false });
    expect(prompt['2']!.inputs).toEqual({ text: 'a cat', clip: ['1', 1] });
    expect(prompt['4']!.inputs).toEqual({ filename_prefix: 'out' });
  });

  test('a muted node is dropped and its consumers lose the input', () => {
    const { prompt } = convert('muted.json');
    expect(prompt).toEqual({
      '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' }, _meta: { title: 'Load Checkpoint' } },
      '3': { class_type: 'SaveImage', inputs: { filename_prefix: 'muted' }, _meta: { title: 'Save Image' } },
    });
  });

  test('Note and MarkdownNote are dropped; a short widgets_values falls back to defaults', () => {
    expect(convert('note.json').prompt).toEqual({
      '3': { class_type: 'EmptyLatentImage', inputs: { width: 640, height: 512, batch_size: 1 }, _meta: { title: 'Size' } },
    });
  });

  test('subgraph: inner ids S:n, -10 inputs from the parent link or the promoted widget, -20 output', () => {
    const { prompt } = convert('subgraph.json');
    expect(Object.keys(prompt).sort()).toEqual(['1', '2', '5:1']);
    expect(prompt['5:1']).toEqual({ class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse', clip: ['1', 1] }, _meta: { title: 'CLIP Text Encode (Prompt)' } });
    expect(prompt['2']!.inputs).toEqual({ conditioning: ['5:1', 0], strength: 0.5 });
  });

  test('legacy group node: <group>:<index> ids, internal links, exposed outputs, instance widget values', () => {
    const { prompt } = convert('group-node.json');
    expect(Object.keys(prompt).sort()).toEqual(['3', '7:0', '7:1']);
    expect(prompt['7:0']!.inputs).toEqual({ ckpt_name: 'group.safetensors' });
    expect(prompt['7:1']!.inputs).toEqual({ text: 'a forest', clip: ['7:0', 1] });
    expect(prompt['3']!.inputs).toMatchObject({ seed: 9, steps: 10, model: ['7:0', 0], positive: ['7:1', 0] });
    expect(prompt['3']!.inputs).not.toHaveProperty('negative');
  });

  test('list-valued widget values are wrapped as {__value__: [...]}', () => {
    const workflow = { nodes: [{ id: 1, type: 'SaveImage', mode: 0, widgets_values: [['a', 'b']] }], links: [] };
    expect(convertUiToApi(workflow, objectInfo).prompt['1']!.inputs).toEqual({ filename_prefix: { __value__: ['a', 'b'] } });
  });

  test('unknown node types fail with the node named and a not-installed hint; bypassed unknown nodes are fine', () => {
    let error: unknown;
    try { convert('unknown-node.json'); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(WorkflowInvalidError);
    const err = error as WorkflowInvalidError;
    expect(err.message).toContain('node 1 "Upscale" (type SuperUpscaler9000)');
    expect(err.message).not.toContain('MissingButBypassed');
    expect(err.hint).toMatch(/probably not installed/);
  });

  test('a Reroute loop is reported instead of recursing forever', () => {
    const workflow = {
      nodes: [
        { id: 1, type: 'Reroute', inputs: [{ name: '', type: '*', link: 2 }], outputs: [] },
        { id: 2, type: 'Reroute', inputs: [{ name: '', type: '*', link: 1 }], outputs: [] },
        { id: 3, type: 'VAEDecode', inputs: [{ name: 'vae', type: 'VAE', link: 3 }], outputs: [] },
      ],
      links: [[1, 1, 0, 2, 0, '*'], [2, 2, 0, 1, 0, '*'], [3, 2, 0, 3, 0, 'VAE']],
    };
    expect(() => convertUiToApi(workflow, objectInfo)).toThrow(/loop/);
  });
});
