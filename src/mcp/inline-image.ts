import type sharpType from 'sharp';
import { loadSharp } from '../lazy-sharp.js';

/**
 * A downscaled copy of an output image for inline tool content: enough for a model to see what
 * came out, small enough not to flood its context. The full file stays on disk; its path travels
 * in the text and the resource link.
 */

export const INLINE_MAX_EDGE = 768;
export const INLINE_MAX_BYTES = 200_000;
export const MAX_INLINE_IMAGES = 4;

/** Tried in order at each size; below the last one the image shrinks instead. */
const QUALITIES = [82, 70, 58, 45] as const;
const SHRINK = 0.75;
const MIN_EDGE = 64;

export interface InlineImage {
  /** base64 JPEG */
  data: string;
  mimeType: 'image/jpeg';
  width: number;
  height: number;
  bytes: number;
}

export interface InlineBudget {
  maxEdge?: number;
  maxBytes?: number;
}

/**
 * Huffman tables optimised for each image need a second pass over it: half the encoding time of a
 * 512x512 render for about 6% more bytes, on the path between the end of a run and the answer.
 */
const JPEG_OPTIONS = { optimiseCoding: false } as const;

/**
 * JPEG, because every MCP client renders it; alpha is flattened onto white. Returns undefined when
 * the file cannot be decoded as an image (the caller then only lists it).
 */
export async function inlineImage(source: string | Buffer, budget: InlineBudget = {}): Promise<InlineImage | undefined> {
  const maxEdge = budget.maxEdge ?? INLINE_MAX_EDGE;
  const maxBytes = budget.maxBytes ?? INLINE_MAX_BYTES;
  const sharp = await loadSharp();
  const [firstQuality, ...lowerQualities] = QUALITIES;
  // One pass (decode, orient, scale, flatten, encode) at the first quality: what nearly every
  // image needs. Only the first frame of an animation: a still is what fits the budget.
  let last: { data: Buffer; info: sharpType.OutputInfo };
  try {
    last = await sharp(source, { animated: false })
      .rotate()
      .resize({ width: maxEdge, height: maxEdge, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: firstQuality, ...JPEG_OPTIONS })
      .toBuffer({ resolveWithObject: true });
  } catch {
    return undefined;
  }
  if (last.data.length <= maxBytes) return toInline(last);

  // Over budget: decode, orient, scale and flatten once; each further attempt only re-encodes those
  // pixels, at lower qualities, then smaller.
  let edge = Math.max(last.info.width, last.info.height);
  let pixels = await sharp(source, { animated: false })
    .rotate()
    .resize({ width: edge, height: edge, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let qualities: readonly number[] = lowerQualities;
  for (;;) {
    const raw = { width: pixels.info.width, height: pixels.info.height, channels: pixels.info.channels };
    for (const quality of qualities) {
      last = await sharp(pixels.data, { raw }).jpeg({ quality, ...JPEG_OPTIONS }).toBuffer({ resolveWithObject: true });
      if (last.data.length <= maxBytes) return toInline(last);
    }
    if (edge <= MIN_EDGE) break;
    edge = Math.max(MIN_EDGE, Math.floor(edge * SHRINK));
    qualities = QUALITIES;
    pixels = await sharp(pixels.data, { raw })
      .resize({ width: edge, height: edge, fit: 'inside' })
      .raw()
      .toBuffer({ resolveWithObject: true });
  }
  // A pathological image that stays over budget even tiny: send the smallest attempt rather than nothing.
  return last.data.length <= maxBytes * 2 ? toInline(last) : undefined;
}

function toInline(out: { data: Buffer; info: sharpType.OutputInfo }): InlineImage {
  return {
    data: out.data.toString('base64'),
    mimeType: 'image/jpeg',
    width: out.info.width,
    height: out.info.height,
    bytes: out.data.length,
  };
}

/** The preview encoder: not touched yet, being warmed up, or ready at full speed. */
export type EncoderState = 'cold' | 'warming' | 'warm';

let encoderState: EncoderState = 'cold';
let warmUp: Promise<void> | undefined;

export function previewEncoderState(): EncoderState {
  return encoderState;
}

/**
 * The first preview of a process pays for loading libvips and running its codecs once, about
 * 100 ms on top of the few ms a preview takes, and loading holds the event loop all that time.
 * preview-warmup.ts calls this once the server is up and idle, so the cost lands neither on
 * start-up nor between a job's end and its answer (nor on a running job's progress). Never
 * rejects; a failed warm-up is tried again next time (the real preview then reports the error).
 */
export function warmPreviewEncoder(): Promise<void> {
  if (warmUp) return warmUp;
  encoderState = 'warming';
  const run = async () => {
    const sharp = await loadSharp();
    const tiny = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#808080' } }).png().toBuffer();
    await inlineImage(tiny);
  };
  warmUp = run().then(
    () => {
      encoderState = 'warm';
    },
    () => {
      encoderState = 'cold';
      warmUp = undefined;
    },
  );
  return warmUp;
}
