import { fromInputFile } from './image-nodes.js';
import { resize } from './pixels.js';
import type { ImageBatch, Latent, Mask, NodeImpl } from './types.js';

/** Inpainting (a mask on the latent) and latent batches, from ComfyUI's nodes.py. */

const LATENT_SCALE = 8;
const CHANNELS = { alpha: 'alpha', red: 'red', green: 'green', blue: 'blue' } as const;

export const LoadImageMask: NodeImpl = {
  async run(inputs, ctx) {
    const channel = CHANNELS[String(inputs.channel) as keyof typeof CHANNELS] ?? 'alpha';
    return { outputs: [await ctx.files.readInputMask(String(inputs.image), channel)] };
  },
  ...fromInputFile,
};

/**
 * Crops the pixels to a multiple of 8, greys out what the mask covers (so the old content
 * cannot leak into the repainted area) and carries the mask as the latent's noise mask.
 * grow_mask_by is not simulated: the mask is used as given.
 */
export const VAEEncodeForInpaint: NodeImpl = {
  async run(inputs) {
    const pixels = inputs.pixels as ImageBatch;
    const first = pixels[0];
    const width = Math.floor((first?.width ?? 0) / LATENT_SCALE) * LATENT_SCALE;
    const height = Math.floor((first?.height ?? 0) / LATENT_SCALE) * LATENT_SCALE;
    const mask = scaleMask(inputs.mask as Mask, width, height);
    const source = pixels.map((image) => {
      const cropped = resize(image, width, height, 'disabled');
      const data = cropped.data.slice();
      for (let i = 0; i < mask.data.length; i++) if ((mask.data[i] ?? 0) >= 128) data.fill(128, i * 3, i * 3 + 3);
      return { width, height, data };
    });
    const latent: Latent = { width: width / LATENT_SCALE, height: height / LATENT_SCALE, batch: pixels.length, source, noiseMask: mask };
    return { outputs: [latent] };
  },
};

export const SetLatentNoiseMask: NodeImpl = {
  async run(inputs) {
    const samples = inputs.samples as Latent;
    return { outputs: [{ ...samples, noiseMask: inputs.mask as Mask }] };
  },
};

export const RepeatLatentBatch: NodeImpl = {
  async run(inputs) {
    const samples = inputs.samples as Latent;
    const amount = Number(inputs.amount);
    const source = samples.source ? Array.from({ length: amount }, () => samples.source!).flat() : undefined;
    const latent: Latent = { ...samples, batch: samples.batch * amount, ...(source ? { source } : {}) };
    return { outputs: [latent] };
  },
};

/** Nearest-neighbour, like the bilinear interpolate ComfyUI uses, near enough for a 0/1 mask. */
export function scaleMask(mask: Mask, width: number, height: number): Mask {
  if (mask.width === width && mask.height === height) return mask;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(mask.height - 1, Math.floor((y * mask.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(mask.width - 1, Math.floor((x * mask.width) / width));
      data[y * width + x] = mask.data[sy * mask.width + sx] ?? 0;
    }
  }
  return { width, height, data };
}
