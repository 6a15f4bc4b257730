import type { Sharp as SharpInstance } from 'sharp';
import { loadSharp } from '../../lazy-sharp.js';
import { encodeApng } from '../apng.js';
import type { ImageBatch, NodeImpl, RgbImage } from './types.js';

/**
 * comfy_extras/nodes_images.py's animation savers: the whole IMAGE batch becomes one animated
 * file, reported under `images` with `animated` set, which is how a client tells it from stills.
 */

/** The `method` combo to libwebp's effort, as ComfyUI maps it. */
const WEBP_METHODS: Readonly<Record<string, number>> = { default: 4, fastest: 0, slowest: 6 };

export const SaveAnimatedWEBP: NodeImpl = {
  async run(inputs, ctx) {
    const frames = inputs.images as ImageBatch;
    const fps = Number(inputs.fps);
    const file = await animatedWebp(frames, fps, inputs.lossless === true, Number(inputs.quality), WEBP_METHODS[String(inputs.method)] ?? 4);
    const images = await ctx.files.saveFiles([file], String(inputs.filename_prefix), 'webp');
    // 0.3.64: `animated = num_frames != 1`, num_frames being the batch size.
    return { outputs: [], ui: { images, animated: [frames.length !== 1] } };
  },
};

export const SaveAnimatedPNG: NodeImpl = {
  async run(inputs, ctx) {
    const frames = inputs.images as ImageBatch;
    const file = encodeApng(frames, Number(inputs.fps), ctx.pngText, Number(inputs.compress_level));
    const images = await ctx.files.saveFiles([file], String(inputs.filename_prefix), 'png');
    return { outputs: [], ui: { images, animated: [true] } };
  },
};

/** libvips writes an animation from one tall image whose page height is a frame's height. */
export async function frameStrip(frames: readonly RgbImage[]): Promise<SharpInstance> {
  const first = frames[0];
  if (!first) throw new Error('no images to animate');
  const stacked = Buffer.concat(frames.map((f) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length)));
  const sharp = await loadSharp();
  return sharp(stacked, { raw: { width: first.width, height: first.height * frames.length, channels: 3, pageHeight: first.height } });
}

export async function animatedWebp(frames: readonly RgbImage[], fps: number, lossless: boolean, quality: number, effort: number): Promise<Buffer> {
  if (!frames[0]) throw new Error('SaveAnimatedWEBP: no images to save');
  const delay = Math.round(1000 / fps);
  return (await frameStrip(frames)).webp({ loop: 0, delay: frames.map(() => delay), lossless, quality: Math.max(1, quality), effort }).toBuffer();
}
