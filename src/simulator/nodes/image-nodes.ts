import { invert, resize, solid } from './pixels.js';
import type { ImageBatch, NodeImpl } from './types.js';

/** ComfyUI core image nodes that need no model weights. */

const int = (v: unknown): number => Number(v);

export const EmptyImage: NodeImpl = {
  async run(inputs) {
    const batch: ImageBatch = [];
    for (let i = 0; i < int(inputs.batch_size); i++) batch.push(solid(int(inputs.width), int(inputs.height), int(inputs.color)));
    return { outputs: [batch] };
  },
};

export const ImageInvert: NodeImpl = {
  async run(inputs) {
    return { outputs: [(inputs.image as ImageBatch).map(invert)] };
  },
};

export const ImageScale: NodeImpl = {
  async run(inputs) {
    const images = inputs.image as ImageBatch;
    const first = images[0];
    let width = int(inputs.width);
    let height = int(inputs.height);
    if (!first || (width === 0 && height === 0)) return { outputs: [images] };
    // ComfyUI keeps the aspect ratio when one side is 0.
    if (width === 0) width = Math.max(1, Math.round((first.width * height) / first.height));
    if (height === 0) height = Math.max(1, Math.round((first.height * width) / first.width));
    return { outputs: [images.map((img) => resize(img, width, height, String(inputs.crop)))] };
  },
};

export const SaveImage: NodeImpl = {
  async run(inputs, ctx) {
    const images = await ctx.files.saveImages(inputs.images as ImageBatch, String(inputs.filename_prefix), 'output', ctx.pngText);
    return { outputs: [], ui: { images } };
  },
};

export const PreviewImage: NodeImpl = {
  async run(inputs, ctx) {
    const images = await ctx.files.saveImages(inputs.images as ImageBatch, '', 'temp', ctx.pngText);
    return { outputs: [], ui: { images } };
  },
};

/**
 * What every node reading a file of input/ shares (LoadImage, LoadImageMask): it runs again when the
 * file's content changes, and a missing file fails validation as ComfyUI's does.
 */
export const fromInputFile: Pick<NodeImpl, 'isChanged' | 'validateInputs'> = {
  isChanged(inputs, ctx) {
    return ctx.files.inputImageHash(String(inputs.image));
  },
  validateInputs: {
    inputs: ['image'],
    check(inputs, ctx) {
      return ctx.files.inputImageExists(String(inputs.image)) ? true : `Invalid image file: ${String(inputs.image)}`;
    },
  },
};

export const LoadImage: NodeImpl = {
  async run(inputs, ctx) {
    const image = await ctx.files.readInputImage(String(inputs.image));
    // MASK: 1 - alpha, so the transparent part of an image is what inpainting repaints.
    const mask = await ctx.files.readInputMask(String(inputs.image), 'alpha');
    return { outputs: [[image], mask] };
  },
  ...fromInputFile,
};
