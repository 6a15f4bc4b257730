import { chunk, compressedRows, ihdrChunk, PNG_SIGNATURE } from './png.js';
import type { RgbImage } from './nodes/types.js';

/**
 * Animated PNG, as SaveAnimatedPNG writes it (PIL, save_all): acTL, then per frame an fcTL and
 * the pixels (IDAT for the first frame, so a plain PNG reader shows it; fdAT after), looping
 * forever. All frames the size of the first, as a ComfyUI IMAGE batch is.
 */
export function encodeApng(frames: readonly RgbImage[], fps: number, text: Record<string, string> = {}, level?: number): Buffer {
  const first = frames[0];
  if (!first) throw new RangeError('an animated PNG needs at least one frame');
  if (frames.some((f) => f.width !== first.width || f.height !== first.height)) throw new RangeError('every frame must be the size of the first');
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(frames.length, 0);
  actl.writeUInt32BE(0, 4); // num_plays 0 = loop forever
  // The delay as a fraction, delay_num / delay_den seconds: 1000 / (fps * 1000) keeps fractional fps.
  const delayDen = 1000;
  const delayNum = Math.max(1, Math.min(0xffff, Math.round(delayDen / fps)));
  const textChunks = Object.entries(text).map(([k, v]) => chunk('tEXt', Buffer.from(`${k}\0${v}`, 'latin1')));
  const parts: Buffer[] = [PNG_SIGNATURE, ihdrChunk(first.width, first.height), chunk('acTL', actl), ...textChunks];
  let sequence = 0;
  frames.forEach((frame, i) => {
    const fctl = Buffer.alloc(26);
    fctl.writeUInt32BE(sequence++, 0);
    fctl.writeUInt32BE(frame.width, 4);
    fctl.writeUInt32BE(frame.height, 8);
    // x/y offset 0 (bytes 12-19)
    fctl.writeUInt16BE(delayNum, 20);
    fctl.writeUInt16BE(delayDen, 22);
    // dispose_op 0 (none), blend_op 0 (source): each frame replaces the canvas
    parts.push(chunk('fcTL', fctl));
    const data = compressedRows(frame.width, frame.height, frame.data, level);
    if (i === 0) parts.push(chunk('IDAT', data));
    else {
      const seq = Buffer.alloc(4);
      seq.writeUInt32BE(sequence++);
      parts.push(chunk('fdAT', Buffer.concat([seq, data])));
    }
  });
  parts.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
