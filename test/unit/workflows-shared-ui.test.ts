/**
 * Converts the recorded ComfyUI_frontend workflows in ../shared/fixtures/ui-workflows with the
 * real /object_info and checks the facts that folder's README lists. The files are read in
 * place (never copied into the project); the suite skips when the folder is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiPrompt, NodeInfo, ObjectInfo } from '../../src/comfy/types.js';
import { WorkflowInvalidError } from '../../src/errors.js';
import { convertUiToApi } from '../../src/workflows/ui-to-api.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const sharedDir = path.resolve(repo, '../shared/fixtures/ui-workflows');
const objectInfo = JSON.parse(readFileSync(path.join(repo, 'test/fixtures/object_info.json'), 'utf8')) as ObjectInfo;

const describeShared = existsSync(sharedDir) ? describe : describe.skip;

function load(file: string): unknown {
  return JSON.parse(readFileSync(path.join(sharedDir, file), 'utf8'));
}

function convert(file: string, info: ObjectInfo = objectInfo): ApiPrompt {
  return convertUiToApi(load(file), info, file).prompt;
}

/** ComfyUI_devtools test nodes used by the nested-subgraph file: IMAGE in, IMAGE out. */
function devtoolsNode(name: string, widgets: Record<string, [string, Record<string, unknown>]>): NodeInfo {
  return {
    input: { required: { value: ['IMAGE', {}], ...widgets } },
    input_order: { required: ['value', ...Object.keys(widgets)] },
    output: ['IMAGE'], output_name: ['IMAGE'], name, output_node: false,
  };
}

describeShared('shared UI workflow fixtures', () => {
  test('default.json: seven nodes, boolean control slot skipped, default filename_prefix, CLIP fanned out', () => {
    const prompt = convert('default.json');
    expect(Object.keys(prompt).sort()).toEqual(['3', '4', '5', '6', '7', '8', '9']);
    expect(prompt['3']!.inputs).toEqual({
      seed: 156680208700286, steps: 20, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1,
      model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0],
    });
    expect(prompt['9']!.inputs).toEqual({ filename_prefix: 'ComfyUI', images: ['8', 0] });
    expect(prompt['6']!.inputs.clip).toEqual(['4', 1]);
    expect(prompt['7']!.inputs.clip).toEqual(['4', 1]);
    expect(prompt['8']!.inputs).toEqual({ samples: ['3', 0], vae: ['4', 2] });
    expect(prompt['4']!.inputs).toEqual({ ckpt_name: 'v1-5-pruned-emaonly-fp16.safetensors' });
  });

  test('load_image_with_ksampler.json: the upload widget is not an input, null links give no inputs', () => {
    const prompt = convert('load_image_with_ksampler.json');
    expect(prompt['1']!.inputs).toEqual({ image: 'example.png' });
    expect(prompt['2']!.inputs).toEqual({ seed: 0, steps: 20, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1 });
  });

  test('note_with_ksampler.json: Note and MarkdownNote dropped, "fixed" control skipped', () => {
    const prompt = convert('note_with_ksampler.json');
    expect(Object.keys(prompt)).toEqual(['1']);
    expect(prompt['1']!.inputs).toMatchObject({ seed: 42, steps: 20, cfg: 8 });
  });

  test('string_node_id.json: string ids are kept as keys and in links', () => {
    const prompt = convert('string_node_id.json');
    expect(prompt['KSampler.0']!.inputs).toMatchObject({
      seed: 3, steps: 20, model: ['CheckpointLoaderSimple.0', 0], positive: ['CLIPTextEncode.0', 0],
      negative: ['CLIPTextEncode.1', 0], latent_image: ['EmptyLatentImage.0', 0],
    });
    expect(prompt['SaveImage.0']!.inputs).toEqual({ filename_prefix: 'ComfyUI', images: ['VAEDecode.0', 0] });
  });

  test('old_workflow_converted_input.json: PrimitiveNode value inlined into strength', () => {
    const prompt = convert('old_workflow_converted_input.json');
    expect(Object.keys(prompt)).toEqual(['1']);
    expect(prompt['1']!.inputs).toEqual({ strength: 1, start_percent: 0, end_percent: 1 });
  });

  test('renamed_converted_widget.json: PrimitiveNode dropped, widgets keep width/height/batch', () => {
    const result = convertUiToApi(load('renamed_converted_widget.json'), objectInfo);
    expect(Object.keys(result.prompt)).toEqual(['3']);
    expect(result.prompt['3']!.inputs).toEqual({ width: 640, height: 768, batch_size: 3 });
    expect(result.warnings.join('\n')).toMatch(/breadth/);
  });

  test('primitive_node.json: steps is the PrimitiveNode constant, not a link', () => {
    const prompt = convert('primitive_node.json');
    expect(Object.keys(prompt)).toEqual(['2']);
    expect(prompt['2']!.inputs.steps).toBe(20);
    expect(prompt['2']!.inputs.seed).toBe(0);
  });

  test('single_connected_reroute_node.json: VAEDecode.vae resolved through the Reroute to ["4", 2]', () => {
    const prompt = convert('single_connected_reroute_node.json');
    expect(Object.keys(prompt).sort()).toEqual(['12', '4']);
    expect(prompt['12']!.inputs).toEqual({ vae: ['4', 2] });
  });

  test('native_reroute.json: native reroutes and floating links are ignored', () => {
    const prompt = convert('native_reroute.json');
    expect(Object.keys(prompt).sort()).toEqual(['19', '4']);
    expect(prompt['19']!.inputs).toEqual({ vae: ['4', 2] });
  });

  test('nested-subgraph-test.json: devtools nodes are reported as not installed', () => {
    let error: unknown;
    try { convert('nested-subgraph-test.json'); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(WorkflowInvalidError);
    const described = (error as WorkflowInvalidError).describe();
    expect(described).toMatch(/node 10:3 \(type TestSleep\)/);
    expect(described).toMatch(/TestAsyncProgressNode/);
    expect(described).toMatch(/probably not installed/);
  });

  test('nested-subgraph-test.json: nested ids and boundaries resolve across scopes with repeated link ids', () => {
    const info: ObjectInfo = {
      ...objectInfo,
      TestSleep: devtoolsNode('TestSleep', { seconds: ['FLOAT', { default: 1 }] }),
      TestAsyncProgressNode: devtoolsNode('TestAsyncProgressNode', { sleep_seconds: ['FLOAT', {}], steps: ['INT', {}] }),
    };
    const prompt = convert('nested-subgraph-test.json', info);
    expect(Object.keys(prompt).sort()).toEqual(['1', '10:3', '10:5:6', '10:5:7', '11']);
    expect(prompt['10:3']!.inputs).toEqual({ value: ['1', 0], seconds: 2 });
    expect(prompt['10:5:6']!.inputs).toEqual({ value: ['10:3', 0], seconds: 2 });
    expect(prompt['10:5:7']!.inputs).toEqual({ value: ['10:5:6', 0], sleep_seconds: 3, steps: 10 });
    expect(prompt['11']!.inputs).toEqual({ filename_prefix: 'ComfyUI', images: ['10:5:7', 0] });
  });

  test('sampler_custom_advanced_in_subgraph.json: inner node emitted as 1:1, instance id 1 not emitted', () => {
    const prompt = convert('sampler_custom_advanced_in_subgraph.json');
    expect(Object.keys(prompt)).toEqual(['1:1']);
    expect(prompt['1:1']).toMatchObject({ class_type: 'SamplerCustomAdvanced', inputs: {} });
  });

  test('missing_models_bypassed.json: a bypassed node contributes nothing', () => {
    expect(convert('missing_models_bypassed.json')).toEqual({});
  });

  test('missing_models_in_bypassed_subgraph.json: the bypassed subgraph contributes nothing', () => {
    const prompt = convert('missing_models_in_bypassed_subgraph.json');
    expect(Object.keys(prompt)).toEqual(['1']);
    expect(prompt['1']!.inputs).toEqual({ seed: 0, steps: 20, cfg: 8, sampler_name: 'euler', scheduler: 'simple', denoise: 1 });
  });

  test('group_node_v1.3.3.json: legacy group node expands to <group>:<index> with its widget values', () => {
    const prompt = convert('group_node_v1.3.3.json');
    expect(Object.keys(prompt).sort()).toEqual(['10:0', '10:1', '10:2', '10:3', '10:4', '10:5', '10:6']);
    expect(prompt['10:4']!.inputs).toEqual({
      seed: 156680208700286, steps: 20, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1,
      model: ['10:1', 0], positive: ['10:2', 0], negative: ['10:3', 0], latent_image: ['10:0', 0],
    });
    expect(prompt['10:2']!.inputs).toEqual({ text: 'beautiful scenery nature glass bottle landscape, , purple galaxy bottle,', clip: ['10:1', 1] });
    expect(prompt['10:5']!.inputs).toEqual({ samples: ['10:4', 0], vae: ['10:1', 2] });
    expect(prompt['10:6']!.inputs).toEqual({ filename_prefix: 'ComfyUI', images: ['10:5', 0] });
    expect(prompt['10:0']!.inputs).toEqual({ width: 512, height: 512, batch_size: 1 });
  });
});
