/**
 * Parameters of a template that has no sidecar, found by recognising the usual SD graph shapes
 * in the API prompt: text encoders feeding samplers, sampler settings, the empty latent, the
 * checkpoint loader and image loaders.
 */
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import { isLink } from '../comfy/types.js';
import type { ParameterSpec, ParameterTarget, ParameterType } from './parameters.js';
import { asRandomSeed, completeSpec } from './parameters.js';

/** Sampler-setting inputs exposed under a parameter name, with a type used when object_info is absent. */
const SETTINGS: Array<{ name: string; inputs: string[]; type: ParameterType; description: string }> = [
  { name: 'seed', inputs: ['seed', 'noise_seed'], type: 'integer', description: 'Noise seed; random when omitted.' },
  { name: 'steps', inputs: ['steps'], type: 'integer', description: 'Sampling steps.' },
  { name: 'cfg', inputs: ['cfg'], type: 'number', description: 'Classifier-free guidance scale.' },
  { name: 'sampler', inputs: ['sampler_name'], type: 'choice', description: 'Sampler algorithm.' },
  { name: 'scheduler', inputs: ['scheduler'], type: 'choice', description: 'Noise schedule.' },
  { name: 'denoise', inputs: ['denoise'], type: 'number', description: 'How much of the input latent is replaced (1 = all).' },
  { name: 'checkpoint', inputs: ['ckpt_name'], type: 'choice', description: 'Checkpoint file.' },
];

const LATENT_SIZE = ['width', 'height', 'batch_size'] as const;

/** Node ids sorted numerically where possible, so "first" means the same thing every time. */
function sortedIds(prompt: ApiPrompt): string[] {
  return Object.keys(prompt).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function isConstant(value: unknown): boolean {
  return value !== undefined && !isLink(value) && (typeof value !== 'object' || value === null);
}

/** Text encoders upstream of `start` (walking through any intermediate conditioning nodes). */
function encodersUpstream(prompt: ApiPrompt, start: unknown): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const queue = isLink(start) ? [start[0]] : [];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = prompt[id];
    if (!node) continue;
    if (typeof node.inputs.text === 'string' && /TextEncode/i.test(node.class_type)) {
      found.push(id);
      continue; // the encoder is the end of this branch
    }
    for (const value of Object.values(node.inputs)) if (isLink(value)) queue.push(value[0]);
  }
  return found;
}

/** Targets with the first node's value: nodes set differently (e.g. a hires pass) are left alone. */
function sameValueTargets(prompt: ApiPrompt, inputs: string[]): ParameterTarget[] {
  const all: Array<ParameterTarget & { value: unknown }> = [];
  for (const nodeId of sortedIds(prompt)) {
    for (const input of inputs) {
      const value = prompt[nodeId]!.inputs[input];
      if (isConstant(value)) all.push({ nodeId, input, value });
    }
  }
  if (all.length === 0) return [];
  return all.filter((t) => t.value === all[0]!.value).map(({ nodeId, input }) => ({ nodeId, input }));
}

export function detectParameters(prompt: ApiPrompt, objectInfo?: ObjectInfo): ParameterSpec[] {
  const specs: ParameterSpec[] = [];
  const add = (name: string, type: ParameterType | undefined, description: string, targets: ParameterTarget[]): void => {
    if (targets.length === 0) return;
    specs.push(completeSpec({ name, description, targets, ...(type ? { type } : {}) }, prompt, objectInfo));
  };

  // Prompts: encoders wired to a sampler's (or guider's) positive / negative inputs.
  const positive = new Set<string>();
  const negative = new Set<string>();
  for (const id of sortedIds(prompt)) {
    const inputs = prompt[id]!.inputs;
    if (!isLink(inputs.positive) || !isLink(inputs.negative)) continue;
    for (const e of encodersUpstream(prompt, inputs.positive)) positive.add(e);
    for (const e of encodersUpstream(prompt, inputs.negative)) negative.add(e);
  }
  for (const id of positive) negative.delete(id); // a shared encoder belongs to the prompt
  add('prompt', 'string', 'What to generate (positive prompt).', [...positive].map((nodeId) => ({ nodeId, input: 'text' })));
  add('negative_prompt', 'string', 'What to avoid (negative prompt).', [...negative].map((nodeId) => ({ nodeId, input: 'text' })));

  for (const setting of SETTINGS) {
    // object_info knows the exact type; without it these names still have an obvious one.
    const type = objectInfo ? undefined : setting.type;
    add(setting.name, type, setting.description, sameValueTargets(prompt, setting.inputs));
  }

  // Empty-latent-like nodes: constant width, height and batch_size together.
  const latentIds = sortedIds(prompt).filter((id) => LATENT_SIZE.every((k) => isConstant(prompt[id]!.inputs[k])));
  if (latentIds.length > 0) {
    const first = latentIds[0]!;
    add('width', 'integer', 'Image width in pixels.', [{ nodeId: first, input: 'width' }]);
    add('height', 'integer', 'Image height in pixels.', [{ nodeId: first, input: 'height' }]);
    add('batch_size', 'integer', 'Images per run.', [{ nodeId: first, input: 'batch_size' }]);
  }

  const loaders = sortedIds(prompt).filter((id) => prompt[id]!.class_type === 'LoadImage' && isConstant(prompt[id]!.inputs.image));
  loaders.forEach((nodeId, i) => {
    add(i === 0 ? 'input_image' : `input_image_${i + 1}`, 'image', 'Input image (a file name in ComfyUI\'s input folder).', [{ nodeId, input: 'image' }]);
  });

  return specs.map((spec) => (spec.name === 'seed' ? asRandomSeed(spec) : spec));
}
