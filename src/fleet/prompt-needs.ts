import type { ApiPrompt } from '../comfy/types.js';

/**
 * What a prompt needs of a host, read from the prompt alone: its node classes, the model files it
 * names, and the checkpoint it loads (the model whose reload dominates switching). Pure and cheap:
 * dispatch reads it once per job.
 */
export interface PromptNeeds {
  nodeClasses: readonly string[];
  /** Values that name model files (by their extension), as the prompt spells them. */
  models: readonly string[];
  /** The first checkpoint/diffusion model the prompt loads, when it loads one. */
  checkpoint: string | undefined;
}

/** The extensions ComfyUI's model folders hold (folder_paths.supported_pt_extensions, plus GGUF). */
const MODEL_FILE = /\.(safetensors|sft|ckpt|pt|pt2|pth|bin|pkl|gguf|onnx)$/i;
/** Inputs that pick the main model: a change of value means a model reload on the host. */
const CHECKPOINT_INPUTS = ['ckpt_name', 'unet_name', 'model_name'];

export function promptNeeds(prompt: ApiPrompt): PromptNeeds {
  const classes = new Set<string>();
  const models = new Set<string>();
  let checkpoint: string | undefined;
  // Node ids in numeric order where they are numbers, so "the first checkpoint" is stable.
  const ids = Object.keys(prompt).sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  for (const id of ids) {
    const node = prompt[id]!;
    classes.add(node.class_type);
    for (const [input, value] of Object.entries(node.inputs ?? {})) {
      if (typeof value !== 'string' || !MODEL_FILE.test(value)) continue;
      models.add(value);
      if (checkpoint === undefined && CHECKPOINT_INPUTS.includes(input)) checkpoint = value;
    }
  }
  return { nodeClasses: [...classes], models: [...models], checkpoint };
}

/** Model names carry the server's path separator ("sd15/x" on Linux, "sd15\\x" on Windows): compare them alike. */
export function modelKey(name: string): string {
  return name.replace(/\\/g, '/');
}
