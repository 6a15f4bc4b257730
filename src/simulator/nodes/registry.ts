import { HarnessFail, HarnessFiles, HarnessImageInfo, HarnessSlowProgress, HarnessText } from './harness-nodes.js';
import { EmptyImage, ImageInvert, ImageScale, LoadImage, PreviewImage, SaveImage } from './image-nodes.js';
import { CheckpointLoaderSimple, CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode, VAEEncode } from './sd-nodes.js';
import { SaveAnimatedPNG, SaveAnimatedWEBP } from './animation-nodes.js';
import { EmptyLatentAudio, SaveAudio, VAEDecodeAudio } from './audio-nodes.js';
import { LoadImageMask, RepeatLatentBatch, SetLatentNoiseMask, VAEEncodeForInpaint } from './latent-nodes.js';
import { ImageUpscaleWithModel, LoraLoader, UpscaleModelLoader } from './model-nodes.js';
import { CreateVideo, SaveVideo, SaveWEBM } from './video-nodes.js';
import { VHS_VideoCombine } from './vhs-nodes.js';
import type { NodeImpl } from './types.js';

/** class_type -> implementation; every key has an entry in data/object-info.json or, for a custom node, in custom-nodes.ts. */
export const NODE_IMPLS: Readonly<Record<string, NodeImpl>> = {
  EmptyImage, ImageInvert, ImageScale, SaveImage, PreviewImage, LoadImage,
  HarnessSlowProgress, HarnessFail, HarnessText, HarnessImageInfo, HarnessFiles,
  CheckpointLoaderSimple, CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode, VAEEncode,
  LoraLoader, UpscaleModelLoader, ImageUpscaleWithModel,
  LoadImageMask, VAEEncodeForInpaint, SetLatentNoiseMask, RepeatLatentBatch,
  SaveAnimatedWEBP, SaveAnimatedPNG,
  EmptyLatentAudio, VAEDecodeAudio, SaveAudio,
  CreateVideo, SaveVideo, SaveWEBM,
  VHS_VideoCombine,
};
