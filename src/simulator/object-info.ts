import type { InputSpec, NodeInfo, ObjectInfo } from '../comfy/types.js';
import { CUSTOM_NODE_PACKS } from './custom-nodes.js';
import objectInfoData from './data/object-info.json' with { type: 'json' };

/**
 * The /object_info entries of the nodes the simulator implements, copied from a real
 * ComfyUI 0.3.64 answer. Validation reads these same specs, so what a client learns from
 * /object_info is exactly what the simulator enforces.
 */
const BASE = objectInfoData as unknown as ObjectInfo;

/**
 * Deep copy with the file-system combos filled in, as the real server does per request.
 * `omitNodes` are classes this host lacks (a custom node not installed): absent here, so
 * validation refuses them as the real server refuses a class it does not know.
 */
export function buildObjectInfo(dynamic: {
  checkpoints: readonly string[];
  inputImages: string[];
  loras?: readonly string[];
  upscaleModels?: readonly string[];
  omitNodes?: ReadonlySet<string>;
  /** Custom node packs installed on this host (custom-nodes.ts): their classes are listed too. */
  customNodes?: readonly string[];
}): ObjectInfo {
  const info = structuredClone(BASE);
  for (const pack of dynamic.customNodes ?? []) Object.assign(info, structuredClone(CUSTOM_NODE_PACKS[pack] ?? {}));
  for (const name of dynamic.omitNodes ?? []) delete info[name];
  const ckpt = info.CheckpointLoaderSimple?.input.required?.ckpt_name;
  if (ckpt) ckpt[0] = [...dynamic.checkpoints];
  const lora = info.LoraLoader?.input.required?.lora_name;
  if (lora) lora[0] = [...(dynamic.loras ?? [])];
  const upscale = info.UpscaleModelLoader?.input.required?.model_name;
  if (upscale) upscale[0] = [...(dynamic.upscaleModels ?? [])];
  for (const cls of ['LoadImage', 'LoadImageMask']) {
    const image = info[cls]?.input.required?.image;
    if (image) image[0] = [...dynamic.inputImages];
  }
  return info;
}

/** A class the simulator implements (before any host omits it). */
export function knownClass(classType: string): boolean {
  return Object.prototype.hasOwnProperty.call(BASE, classType);
}

/** Where an input is declared: required, optional, or not at all. */
export function findInputSpec(info: NodeInfo, name: string): { spec: InputSpec; category: 'required' | 'optional' } | undefined {
  const req = info.input.required?.[name];
  if (req) return { spec: req, category: 'required' };
  const opt = info.input.optional?.[name];
  if (opt) return { spec: opt, category: 'optional' };
  return undefined;
}
