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
const QUALITIES = [82, 70, 58, 45];
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
 * JPEG, because every MCP client renders it; alpha is flattened onto white. Returns undefined when
 * the file cannot be decoded as an image (the caller then only lists it).
 */
export async function inlineImage(source: string | Buffer, budget: InlineBudget = {}): Promise<InlineImage | undefined> {
  const maxEdge = budget.maxEdge ?? INLINE_MAX_EDGE;
  const maxBytes = budget.maxBytes ?? INLINE_MAX_BYTES;
  const sharp = await loadSharp();
  let meta: sharpType.Metadata;
  try {
    // Only the first frame of an animation: a still is what fits the budget.
    meta = await sharp(source, { animated: false }).metadata();
  } catch {
    return undefined;
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) return undefined;

  // Decode, orient, scale and flatten once; each quality attempt only re-encodes those pixels.
  let edge = Math.min(maxEdge, Math.max(width, height));
  let pixels = await sharp(source, { animated: false })
    .rotate()
    .resize({ width: edge, height: edge, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let last: { data: Buffer; info: sharpType.OutputInfo } | undefined;
  for (;;) {
    const raw = { width: pixels.info.width, height: pixels.info.height, channels: pixels.info.channels };
    for (const quality of QUALITIES) {
      last = await sharp(pixels.data, { raw }).jpeg({ quality }).toBuffer({ resolveWithObject: true });
      if (last.data.length <= maxBytes) return toInline(last);
    }
    if (edge <= MIN_EDGE) break;
    edge = Math.max(MIN_EDGE, Math.floor(edge * SHRINK));
    pixels = await sharp(pixels.data, { raw })
      .resize({ width: edge, height: edge, fit: 'inside' })
      .raw()
      .toBuffer({ resolveWithObject: true });
  }
  // A pathological image that stays over budget even tiny: send the smallest attempt rather than nothing.
  return last && last.data.length <= maxBytes * 2 ? toInline(last) : undefined;
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
