import { createHash } from 'node:crypto';
import type { RgbImage } from './types.js';

/** Pixel helpers: simple, deterministic, no dependencies. */

export function solid(width: number, height: number, color: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const r = (color >> 16) & 0xff;
  const g = (color >> 8) & 0xff;
  const b = color & 0xff;
  for (let i = 0; i < width * height; i++) data.set([r, g, b], i * 3);
  return { width, height, data };
}

export function invert(image: RgbImage): RgbImage {
  return { ...image, data: image.data.map((v) => 255 - v) };
}

/**
 * Nearest-neighbour resize for every upscale_method (the simulator does not need filter
 * quality); `crop: center` first crops the source to the target aspect, as ComfyUI does.
 */
export function resize(image: RgbImage, width: number, height: number, crop: string): RgbImage {
  let sx = 0;
  let sy = 0;
  let sw = image.width;
  let sh = image.height;
  if (crop === 'center') {
    const oldAspect = image.width / image.height;
    const newAspect = width / height;
    if (oldAspect > newAspect) {
      sw = Math.round(image.height * newAspect);
      sx = Math.floor((image.width - sw) / 2);
    } else if (oldAspect < newAspect) {
      sh = Math.round(image.width / newAspect);
      sy = Math.floor((image.height - sh) / 2);
    }
  }
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const srcY = sy + Math.min(sh - 1, Math.floor((y * sh) / height));
    for (let x = 0; x < width; x++) {
      const srcX = sx + Math.min(sw - 1, Math.floor((x * sw) / width));
      const s = (srcY * image.width + srcX) * 3;
      data.set(image.data.subarray(s, s + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

/**
 * The "generated" picture: a diagonal two-colour gradient with a stripe pattern, colours and
 * angle taken from a hash of the prompt text and seed. Same inputs, same pixels.
 */
export function patternFromText(width: number, height: number, key: string): RgbImage {
  const h = createHash('sha256').update(key).digest();
  const c1 = [h[0] ?? 0, h[1] ?? 0, h[2] ?? 0];
  const c2 = [h[3] ?? 0, h[4] ?? 0, h[5] ?? 0];
  const period = 4 + ((h[6] ?? 0) % 28);
  const angle = ((h[7] ?? 0) / 255) * Math.PI;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x + y) / Math.max(1, width + height - 2);
      const stripe = Math.floor((x * cos + y * sin) / period) % 2 === 0 ? 1 : 0.8;
      for (let c = 0; c < 3; c++) {
        const v = ((c1[c] ?? 0) * (1 - t) + (c2[c] ?? 0) * t) * stripe;
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width, height, data };
}
