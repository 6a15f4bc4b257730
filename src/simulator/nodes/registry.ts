import { HarnessFail, HarnessFiles, HarnessImageInfo, HarnessSlowProgress, HarnessText } from './harness-nodes.js';
import { EmptyImage, ImageInvert, ImageScale, LoadImage, PreviewImage, SaveImage } from './image-nodes.js';
import { CheckpointLoaderSimple, CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode, VAEEncode } from './sd-nodes.js';
import type { NodeImpl } from './types.js';

/** class_type -> implementation; every key has an entry in data/object-info.json. */
export const NODE_IMPLS: Readonly<Record<string, NodeImpl>> = {
  EmptyImage, ImageInvert, ImageScale, SaveImage, PreviewImage, LoadImage,
  HarnessSlowProgress, HarnessFail, HarnessText, HarnessImageInfo, HarnessFiles,
  CheckpointLoaderSimple, CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode, VAEEncode,
};
