import { nearest } from '../workflows/nearest.js';
import { own } from '../input-policy/index.js';

/**
 * Lookup tables and name matching behind the diagnosis: which model folder an input reads from,
 * which custom node pack a class name belongs to, and which file names are close to a wrong one.
 */

/** Input names of ComfyUI's loader nodes → the models folder (GET /models/{folder}) they read. */
const MODEL_INPUTS: Record<string, string> = {
  ckpt_name: 'checkpoints',
  lora_name: 'loras',
  vae_name: 'vae',
  control_net_name: 'controlnet',
  unet_name: 'diffusion_models',
  clip_name: 'text_encoders',
  clip_name1: 'text_encoders',
  clip_name2: 'text_encoders',
  clip_name3: 'text_encoders',
  clip_name4: 'text_encoders',
  model_name: 'upscale_models',
  upscale_model_name: 'upscale_models',
  style_model_name: 'style_models',
  gligen_name: 'gligen',
  hypernetwork_name: 'hypernetworks',
  photomaker_model_name: 'photomaker',
};

export function modelFolderOf(inputName: string): string | undefined {
  return own(MODEL_INPUTS, inputName);
}

/** Class-name patterns of widely used custom node packs. */
const PACKS: Array<[RegExp, string]> = [
  [/^IPAdapter/i, 'ComfyUI_IPAdapter_plus'],
  [/^VHS_/, 'ComfyUI-VideoHelperSuite'],
  [/^(FaceDetailer|SAMLoader|UltralyticsDetectorProvider|ImpactWildcard)/, 'ComfyUI-Impact-Pack'],
  [/^UltimateSDUpscale/, 'ComfyUI_UltimateSDUpscale'],
  [/Preprocessor$|^AIO_Preprocessor/, 'comfyui_controlnet_aux'],
  [/\(rgthree\)$/, 'rgthree-comfy'],
  [/^CR /, 'ComfyUI_Comfyroll_CustomNodes'],
  [/^easy /, 'ComfyUI-Easy-Use'],
  [/KJ$|^(GetImageSizeAndCount|ImageResizeKJ)/, 'ComfyUI-KJNodes'],
  [/^(Image Save|Text Multiline|Number to Text)$|^WAS_/, 'was-node-suite-comfyui'],
  [/^(Efficient Loader|KSampler \(Efficient\))/, 'efficiency-nodes-comfyui'],
  [/^(ADE_|AnimateDiff)/, 'ComfyUI-AnimateDiff-Evolved'],
  [/^(WanVideo|Wan)/, 'ComfyUI-WanVideoWrapper'],
  [/^(GGUF|UnetLoaderGGUF|CLIPLoaderGGUF)/i, 'ComfyUI-GGUF'],
];

export function packFor(classType: string): string | undefined {
  return PACKS.find(([re]) => re.test(classType))?.[1];
}

/** Up to `limit` names nearest to `wanted`; the first few names when none is close. */
export function closestNames(wanted: string, names: string[], limit = 3): string[] {
  const near = nearest(wanted, names, limit);
  return near.length > 0 ? near : [...names].sort().slice(0, limit);
}
