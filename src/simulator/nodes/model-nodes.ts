import { loadSharp } from '../../lazy-sharp.js';
import type { ImageBatch, ModelRef, NodeImpl, RgbImage, UpscaleModelRef } from './types.js';

/** Loaders beyond the checkpoint: LoRAs, and upscale models with the upscale they do. */

export const LoraLoader: NodeImpl = {
  async run(inputs) {
    const lora = String(inputs.lora_name);
    const withLora = (ref: ModelRef): ModelRef => ({ ...ref, loras: [...(ref.loras ?? []), lora] });
    return { outputs: [withLora(inputs.model as ModelRef), withLora(inputs.clip as ModelRef)] };
  },
};

export const UpscaleModelLoader: NodeImpl = {
  async run(inputs) {
    const name = String(inputs.model_name);
    const model: UpscaleModelRef = { kind: 'UPSCALE_MODEL', name, scale: scaleOf(name) };
    return { outputs: [model] };
  },
};

export const ImageUpscaleWithModel: NodeImpl = {
  async run(inputs, ctx) {
    const model = inputs.upscale_model as UpscaleModelRef;
    const images = inputs.image as ImageBatch;
    const out: ImageBatch = [];
    for (const [i, image] of images.entries()) {
      out.push(await upscale(image, model.scale));
      // ComfyUI's ProgressBar counts tiles; one 512-px tile per image at the sizes tests use.
      await ctx.progress(i + 1, images.length);
    }
    return { outputs: [out] };
  },
};

/** The factor is in the file name by convention (RealESRGAN_x4plus, 4x-UltraSharp); 4 otherwise. */
export function scaleOf(name: string): number {
  const m = /(?:^|[^a-z])x(\d)|(\d)x(?:[^a-z]|$)/i.exec(name);
  const n = Number(m?.[1] ?? m?.[2] ?? 4);
  return n >= 1 && n <= 8 ? n : 4;
}

async function upscale(image: RgbImage, scale: number): Promise<RgbImage> {
  const sharp = await loadSharp();
  const width = image.width * scale;
  const height = image.height * scale;
  const data = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
