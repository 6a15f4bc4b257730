import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { imageTypeOf, IMAGE_SIGNATURE_BYTES } from '../../src/mcp/image-signature.js';

/** Images are recognised by their first bytes, as PIL (ComfyUI's LoadImage) recognises them; names play no part. */

const pixels = () => sharp({ create: { width: 4, height: 4, channels: 3, background: '#36c' } });

/** A 1×1 24-bit BMP as Windows writes it: 14-byte file header, 40-byte BITMAPINFOHEADER, one padded row. */
function bmp(): Buffer {
  const b = Buffer.alloc(58);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(58, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(1, 18);
  b.writeInt32LE(1, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(4, 34);
  return b;
}

describe('imageTypeOf', () => {
  it.each([
    ['PNG', () => pixels().png().toBuffer()],
    ['JPEG', () => pixels().jpeg().toBuffer()],
    ['WebP', () => pixels().webp().toBuffer()],
    ['GIF', () => pixels().gif().toBuffer()],
    ['TIFF', () => pixels().tiff().toBuffer()],
    ['TIFF', () => pixels().tiff().toBuffer().then((b) => Buffer.concat([Buffer.from('MM\0*'), b.subarray(4)]))],
    ['BMP', async () => bmp()],
  ])('recognises %s', async (type, make) => {
    expect(imageTypeOf((await make()).subarray(0, IMAGE_SIGNATURE_BYTES))).toBe(type);
  });

  it.each([
    ['an .env file', 'OPENAI_API_KEY=sk-123\nDATABASE_URL=postgres://u:p@h/db\n'],
    ['text that starts like a BMP', 'BMW owners club: minutes of the meeting'],
    ['text that starts like a RIFF', 'RIFF raff and WEBP are words'],
    ['an empty file', ''],
    ['a PNG signature cut short', '\x89PNG\r\n'],
    ['JSON', '{"prompt": "a cat"}'],
  ])('refuses %s', (_what, content) => {
    expect(imageTypeOf(Buffer.from(content, 'latin1'))).toBeUndefined();
  });

  it('refuses a WAV file: RIFF, but not WEBP', () => {
    const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVEfmt ')]);
    expect(imageTypeOf(wav)).toBeUndefined();
  });
});
