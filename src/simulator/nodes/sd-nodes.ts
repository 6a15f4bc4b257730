import { sleep } from '../clock.js';
import { scaleMask } from './latent-nodes.js';
import { patternFromText, resize } from './pixels.js';
import type { Conditioning, ImageBatch, Latent, ModelRef, NodeImpl, RgbImage } from './types.js';

/**
 * The SD 1.5 text-to-image graph, faked: no weights, but the same inputs, outputs, link
 * types and progress behaviour, and PNGs whose pixels follow from prompt text and seed.
 */

const LATENT_SCALE = 8;
const int = (v: unknown): number => Number(v);

export const CheckpointLoaderSimple: NodeImpl = {
  async run(inputs, ctx) {
    const name = String(inputs.ckpt_name);
    await ctx.loadCheckpoint(name);
    const refs: ModelRef[] = [{ kind: 'MODEL', name }, { kind: 'CLIP', name }, { kind: 'VAE', name }];
    return { outputs: refs };
  },
};

export const CLIPTextEncode: NodeImpl = {
  async run(inputs) {
    const cond: Conditioning = { text: String(inputs.text) };
    return { outputs: [cond] };
  },
};

export const EmptyLatentImage: NodeImpl = {
  async run(inputs) {
    const latent: Latent = {
      width: Math.floor(int(inputs.width) / LATENT_SCALE),
      height: Math.floor(int(inputs.height) / LATENT_SCALE),
      batch: int(inputs.batch_size),
    };
    return { outputs: [latent] };
  },
};

export const KSampler: NodeImpl = {
  async run(inputs, ctx) {
    const latent = inputs.latent_image as Latent;
    const steps = int(inputs.steps);
    const positive = (inputs.positive as Conditioning).text;
    const negative = (inputs.negative as Conditioning).text;
    const seed = int(inputs.seed);
    const loras = (inputs.model as ModelRef | undefined)?.loras;
    const sampled: Latent = { ...latent, sampled: { positive, negative, seed, steps, ...(loras ? { loras } : {}) } };
    for (let step = 1; step <= steps; step++) {
      await sleep(ctx.stepDelayMs, ctx.signal);
      // Like latent2rgb: a small preview at latent resolution, only with --preview-method auto.
      const preview = ctx.previewMethod === 'auto' && !latent.audio ? decode(sampled)[0] : undefined;
      await ctx.progress(step, steps, preview);
    }
    return { outputs: [sampled] };
  },
};

export const VAEDecode: NodeImpl = {
  async run(inputs) {
    return { outputs: [decode(inputs.samples as Latent)] };
  },
};

export const VAEEncode: NodeImpl = {
  async run(inputs) {
    const pixels = inputs.pixels as ImageBatch;
    const first = pixels[0];
    const latent: Latent = {
      width: Math.floor((first?.width ?? 0) / LATENT_SCALE),
      height: Math.floor((first?.height ?? 0) / LATENT_SCALE),
      batch: pixels.length,
      source: pixels,
    };
    return { outputs: [latent] };
  },
};

function decode(latent: Latent): ImageBatch {
  const width = Math.max(1, latent.width * LATENT_SCALE);
  const height = Math.max(1, latent.height * LATENT_SCALE);
  const images: ImageBatch = [];
  for (let i = 0; i < latent.batch; i++) {
    const source = latent.source?.[i];
    if (source && !latent.sampled) {
      images.push(resize(source, width, height, 'disabled'));
      continue;
    }
    const s = latent.sampled;
    // A LoRA changes what the model paints: it joins the key the pixels follow from.
    const style = s?.loras?.length ? `\u0000${s.loras.join('\u0000')}` : '';
    const key = s ? `${s.positive}\u0000${s.seed}\u0000${i}${style}` : `empty\u0000${i}`;
    const painted = patternFromText(width, height, key);
    images.push(source && latent.noiseMask ? keepUnmasked(painted, resize(source, width, height, 'disabled'), scaleMask(latent.noiseMask, width, height)) : painted);
  }
  return images;
}

/** Inpainting: the sampler only changes what the noise mask covers. */
function keepUnmasked(painted: RgbImage, source: RgbImage, mask: { data: Uint8Array }): RgbImage {
  const data = painted.data.slice();
  for (let i = 0; i < mask.data.length; i++) if ((mask.data[i] ?? 0) < 128) data.set(source.data.subarray(i * 3, i * 3 + 3), i * 3);
  return { ...painted, data };
}
