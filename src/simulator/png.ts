import { deflateSync } from 'node:zlib';

/**
 * Minimal PNG encoder: 8-bit RGB, no interlace, filter 0 on every row. Enough for the
 * simulator's outputs; ComfyUI clients only need a valid PNG with the right size.
 */
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE_RGB = 2;
const BIT_DEPTH = 8;
const CHANNELS = 3;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(4 + typeAndData.length + 4);
  out.writeUInt32BE(data.length, 0);
  typeAndData.copy(out, 4);
  out.writeUInt32BE(crc32(typeAndData), 4 + typeAndData.length);
  return out;
}

/** `text` entries become tEXt chunks (ComfyUI stores `prompt` and `workflow` this way). */
export function encodePng(width: number, height: number, rgb: Uint8Array, text: Record<string, string> = {}): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`invalid PNG size ${width}x${height}`);
  }
  if (rgb.length !== width * height * CHANNELS) throw new RangeError('pixel buffer does not match size');
  const textChunks = Object.entries(text).map(([k, v]) => chunk('tEXt', Buffer.from(`${k}\0${v}`, 'latin1')));
  return Buffer.concat([SIGNATURE, ihdrChunk(width, height), ...textChunks, chunk('IDAT', compressedRows(width, height, rgb)), chunk('IEND', Buffer.alloc(0))]);
}

export { SIGNATURE as PNG_SIGNATURE };

export function ihdrChunk(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = BIT_DEPTH;
  ihdr[9] = COLOR_TYPE_RGB;
  // bytes 10-12: compression 0, filter 0, interlace 0
  return chunk('IHDR', ihdr);
}

/** The zlib stream of an IDAT (or an APNG fdAT): each row behind filter byte 0. */
export function compressedRows(width: number, height: number, rgb: Uint8Array, level?: number): Buffer {
  const stride = width * CHANNELS;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None
    Buffer.from(rgb.buffer, rgb.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  return deflateSync(raw, level === undefined ? {} : { level });
}
