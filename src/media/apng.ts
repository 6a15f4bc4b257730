import type { FileHandle } from 'node:fs/promises';

/**
 * Frames and duration of an animated PNG (SaveAnimatedPNG), which libvips reads as a still: walk
 * the chunk headers (8 bytes each, the data skipped) for acTL, the frame count, and each fcTL's
 * delay. Bounded: a PNG with more chunks than MAX_CHUNKS is left at what was seen.
 */

const MAX_CHUNKS = 100_000;
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface ApngInfo {
  frames: number;
  durationS: number;
}

export async function readApng(fh: FileHandle, fileBytes: number): Promise<ApngInfo | undefined> {
  const head = Buffer.alloc(8);
  const read = async (at: number, buf: Buffer) => (await fh.read(buf, 0, buf.length, at)).bytesRead === buf.length;
  if (!(await read(0, head)) || !head.equals(SIGNATURE)) return undefined;
  let frames = 0;
  let durationMs = 0;
  const fctl = Buffer.alloc(26);
  for (let at = 8, n = 0; at + 8 <= fileBytes && n < MAX_CHUNKS; n++) {
    if (!(await read(at, head))) break;
    const size = head.readUInt32BE(0);
    const type = head.toString('latin1', 4, 8);
    if (type === 'acTL') {
      const actl = Buffer.alloc(4);
      if (await read(at + 8, actl)) frames = actl.readUInt32BE(0);
    } else if (type === 'fcTL' && (await read(at + 8, fctl))) {
      const num = fctl.readUInt16BE(20);
      // A zero denominator means 1/100 s, as the APNG spec says.
      const den = fctl.readUInt16BE(22) || 100;
      durationMs += (num / den) * 1000;
    } else if (type === 'IDAT' && frames === 0) {
      return undefined; // image data before any acTL: a plain PNG
    } else if (type === 'IEND') break;
    at += 12 + size;
  }
  return frames > 1 ? { frames, durationS: durationMs / 1000 } : undefined;
}
