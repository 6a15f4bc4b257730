import { ConfigInvalidError } from '../errors.js';
import { excerpt } from '../input-policy/excerpt.js';
import { CUSTOM_NODE_PACKS, isCustomNodePack } from './custom-nodes.js';
import { knownClass } from './object-info.js';

/**
 * The model files a simulator offers unless told otherwise: the names the shipped templates
 * default to (workflows/*.json), so each runs out of the box on `comfywire simulate`.
 */
export const SIMULATOR_CHECKPOINTS = [
  'sd15-random.safetensors', 'v1-5-pruned-emaonly.safetensors', 'sd_xl_base_1.0.safetensors', 'stable-audio-open-1.0.safetensors',
] as const;
export const SIMULATOR_LORAS = ['sd15-detail-lora.safetensors'] as const;
export const SIMULATOR_UPSCALE_MODELS = ['RealESRGAN_x4plus.pth'] as const;

/** What makes one simulated host differ from another: its model files, its nodes, its load cost. */
export interface HostShapeOptions {
  /** /models/checkpoints and CheckpointLoaderSimple's ckpt_name combo; default SIMULATOR_CHECKPOINTS. */
  checkpoints?: readonly string[];
  /** /models/loras and LoraLoader's lora_name combo; default SIMULATOR_LORAS. */
  loras?: readonly string[];
  /** /models/upscale_models and UpscaleModelLoader's combo; default SIMULATOR_UPSCALE_MODELS. A name's `xN` is its scale (default 4). */
  upscaleModels?: readonly string[];
  /** Node classes this host lacks (a custom node not installed); must be classes the simulator knows. */
  omitNodes?: readonly string[];
  /** Custom node packs installed (custom-nodes.ts), e.g. ['VideoHelperSuite'] for VHS_VideoCombine; default none, as on a bare ComfyUI. */
  customNodes?: readonly string[];
  /** Extra time of a CheckpointLoaderSimple that loads a checkpoint other than the one held (default 0). */
  modelLoadMs?: number;
}

export interface HostShape {
  checkpoints: readonly string[];
  loras: readonly string[];
  upscaleModels: readonly string[];
  omitNodes: ReadonlySet<string>;
  customNodes: readonly string[];
  modelLoadMs: number;
}

/** The options checked once at start: a mistyped class or a negative time fails loudly, not as odd 400s later. */
export function hostShape(options: HostShapeOptions): HostShape {
  const checkpoints = fileNames(options.checkpoints ?? SIMULATOR_CHECKPOINTS, 'checkpoint', 'sd15-random.safetensors');
  const loras = fileNames(options.loras ?? SIMULATOR_LORAS, 'LoRA', 'sd15-detail-lora.safetensors');
  const upscaleModels = fileNames(options.upscaleModels ?? SIMULATOR_UPSCALE_MODELS, 'upscale model', 'RealESRGAN_x4plus.pth');
  const omitNodes = new Set(options.omitNodes ?? []);
  for (const name of omitNodes) {
    if (!knownClass(name)) {
      throw new ConfigInvalidError(`simulator: cannot omit node class ${excerpt(name)}: the simulator has no such class.`, {
        hint: 'Name a class listed by the simulator\'s /object_info, e.g. HarnessText.',
      });
    }
  }
  const customNodes = [...new Set(options.customNodes ?? [])];
  for (const pack of customNodes) {
    if (!isCustomNodePack(pack)) {
      throw new ConfigInvalidError(`simulator: no custom node pack ${excerpt(String(pack))}.`, {
        hint: `The simulator has these packs: ${Object.keys(CUSTOM_NODE_PACKS).join(', ')}.`,
      });
    }
  }
  const modelLoadMs = options.modelLoadMs ?? 0;
  if (!Number.isFinite(modelLoadMs) || modelLoadMs < 0) {
    throw new ConfigInvalidError(`simulator: model load time must be 0 or more milliseconds, got ${excerpt(String(modelLoadMs))}.`);
  }
  return { checkpoints, loras, upscaleModels, omitNodes, customNodes, modelLoadMs };
}

/** One model folder's list: non-empty names, duplicates dropped. */
function fileNames(names: readonly string[], what: string, example: string): string[] {
  for (const name of names) {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new ConfigInvalidError(`simulator: a ${what} name is empty.`, { hint: `Give each ${what} a file name, e.g. ${example}.` });
    }
  }
  return [...new Set(names)];
}
