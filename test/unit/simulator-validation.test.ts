import type { ApiPrompt } from '../../src/comfy/types.js';
import { NODE_IMPLS } from '../../src/simulator/nodes/registry.js';
import { buildObjectInfo } from '../../src/simulator/object-info.js';
import { validatePrompt } from '../../src/simulator/validation.js';
import { resolveViewPath } from '../../src/simulator/routes/view.js';
import { HttpError } from '../../src/simulator/http-util.js';

const files = { files: { inputImageExists: () => false, inputImageHash: () => '', readInputImage: async () => { throw new Error('no'); }, readInputMask: async () => { throw new Error('no'); }, saveImages: async () => [], saveFiles: async () => [], saveFolder: async () => { throw new Error('no'); }, copyToOutput: async () => { throw new Error('no'); } } };
const deps = { objectInfo: buildObjectInfo({ checkpoints: ['sd15-random.safetensors'], inputImages: [] }), impls: NODE_IMPLS, files };
const validate = (prompt: unknown): ReturnType<typeof validatePrompt> => validatePrompt(prompt as ApiPrompt, deps);

describe('simulator validation error bodies', () => {
  it('reports min and list errors on upstream nodes with empty details (f1)', () => {
    const r = validate({
      1: { class_type: 'EmptyImage', inputs: { width: 0, height: 32, batch_size: 1, color: 0 } },
      2: { class_type: 'ImageScale', inputs: { image: ['1', 0], upscale_method: 'bogus', width: 8, height: 8, crop: 'disabled' } },
      3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'f' } },
    });
    expect(r.error).toEqual({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} });
    expect(r.nodeErrors['1']?.errors[0]).toEqual({
      type: 'value_smaller_than_min', message: 'Value 0 smaller than min of 1', details: 'width',
      extra_info: { input_name: 'width', input_config: ['INT', { default: 512, min: 1, max: 16384, step: 1 }], received_value: 0 },
    });
    expect(r.nodeErrors['2']?.errors[0]?.details).toBe("upscale_method: 'bogus' not in ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos']");
    expect(r.nodeErrors['2']?.dependent_outputs).toEqual(['3']);
  });

  it('rejects unknown classes, prompts without outputs, and links to missing nodes', () => {
    expect(validate({ 1: { class_type: 'NoSuchNode', inputs: {} } }).error).toEqual({ type: 'invalid_prompt', message: 'Cannot execute because node NoSuchNode does not exist.', details: "Node ID '#1'", extra_info: {} });
    expect(validate({ 1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } } }).error?.type).toBe('prompt_no_outputs');
    const missing = validate({ 1: { class_type: 'PreviewImage', inputs: { images: ['99', 0] } } });
    expect(missing.error?.details).toBe("Exception when validating node: '99'");
    expect(missing.nodeErrors['1']?.errors[0]?.extra_info.exception_type).toBe('KeyError');
  });

  it('accepts with node_errors when one output survives, and converts constants in place', () => {
    const prompt = {
      1: { class_type: 'HarnessText', inputs: { text: 'x' } },
      2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      3: { class_type: 'EmptyImage', inputs: { width: '16', height: 16, batch_size: 1, color: 0 } },
    };
    const r = validate(prompt);
    expect(r.ok).toBe(true);
    expect(r.outputs).toEqual(['1']);
    expect(r.nodeErrors['2']?.errors[0]?.type).toBe('return_type_mismatch');
    expect(r.nodeErrors['2']?.errors[0]?.details).toBe('images, received_type(STRING) mismatch input_type(IMAGE)');
  });

  it('lists available checkpoints in value_not_in_list (k2)', () => {
    const r = validate({
      4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'nope.safetensors' } },
      6: { class_type: 'CLIPTextEncode', inputs: { text: 'a', clip: ['4', 1] } },
      9: { class_type: 'HarnessText', inputs: { text: 'x', image: ['6', 0] } },
    });
    expect(r.nodeErrors['9']?.errors[0]?.type).toBe('return_type_mismatch');
    const k = validate({ 4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'nope.safetensors' } }, 5: { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } }, 8: { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['4', 2] } }, 9: { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'x' } } });
    expect(k.nodeErrors['4']?.errors[0]?.extra_info.input_config).toEqual([['sd15-random.safetensors'], { tooltip: 'The name of the checkpoint (model) to load.' }]);
  });
});

describe('simulator /view path checks', () => {
  const root = (t: string): string => `/data/${t}`;
  const q = (s: string): URLSearchParams => new URLSearchParams(s);
  const status = (s: string): number | string => {
    try {
      return resolveViewPath(root, q(s)) ?? 'absent';
    } catch (e) {
      return (e as HttpError).status;
    }
  };
  it('applies the checks in the server order', () => {
    expect(status('')).toBe('absent');
    expect(status('filename=')).toBe(400);
    expect(status('filename=../main.py')).toBe(400);
    expect(status('filename=my..file.png')).toBe(400);
    expect(status('filename=/etc/passwd')).toBe(400);
    expect(status('filename=a.png&type=bogus')).toBe(400);
    expect(status('filename=a.png&subfolder=../../x')).toBe(403);
    expect(status('filename=sub/a.png&subfolder=s')).toBe('/data/output/s/a.png');
    expect(status('filename=a.png [input]&type=output')).toBe('/data/input/a.png');
  });

  it('parses folder annotations like annotated_filepath: suffix plus one character cut, then the checks', () => {
    expect(status('filename=a.png [temp]&type=bogus')).toBe('/data/temp/a.png');
    expect(status('filename= [output]')).toBe(400);
    expect(status('filename=[output]')).toBe(400);
    expect(status('filename=a.png[output]')).toBe('/data/output/a.pn');
    expect(status('filename=../a.png [input]')).toBe(400);
    expect(status('filename=a.png&subfolder=..%5Cwin')).toBe('/data/output/..\\win/a.png');
  });
});
