import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { INLINE_MAX_BYTES, INLINE_MAX_EDGE, inlineImage, previewEncoderState, warmPreviewEncoder } from '../../src/mcp/inline-image.js';

/** Noise is the worst case for a JPEG encoder: it forces the quality and size steps. */
async function noisePng(width: number, height: number, channels: 3 | 4 = 3): Promise<Buffer> {
  return sharp(randomBytes(width * height * channels), { raw: { width, height, channels } }).png().toBuffer();
}

describe('inlineImage', () => {
  it('fits a large noisy image into the edge and byte budget', async () => {
    const png = await noisePng(2048, 1536);
    expect(png.length).toBeGreaterThan(5 * INLINE_MAX_BYTES);
    const img = await inlineImage(png);
    expect(img).toBeDefined();
    expect(img!.mimeType).toBe('image/jpeg');
    expect(Math.max(img!.width, img!.height)).toBeLessThanOrEqual(INLINE_MAX_EDGE);
    expect(img!.bytes).toBeLessThanOrEqual(INLINE_MAX_BYTES);
    expect(Buffer.from(img!.data, 'base64').length).toBe(img!.bytes);
    // The aspect ratio survives the downscale.
    expect(img!.width / img!.height).toBeCloseTo(2048 / 1536, 1);
  }, 30_000);

  it('honours a tighter budget by shrinking further', async () => {
    const img = await inlineImage(await noisePng(1024, 1024), { maxBytes: 20_000 });
    expect(img!.bytes).toBeLessThanOrEqual(20_000);
    expect(img!.width).toBeLessThan(768);
  }, 30_000);

  it('never enlarges a small image and flattens transparency', async () => {
    const img = await inlineImage(await noisePng(64, 32, 4));
    expect(img).toMatchObject({ width: 64, height: 32, mimeType: 'image/jpeg' });
  });

  it('returns undefined for bytes that are not an image', async () => {
    expect(await inlineImage(Buffer.from('not an image'))).toBeUndefined();
  });

  it('warms the encoder once, however many calls ask at the same time', async () => {
    expect(previewEncoderState()).toBe('cold');
    const first = warmPreviewEncoder();
    expect(warmPreviewEncoder()).toBe(first);
    expect(previewEncoderState()).toBe('warming');
    await first;
    expect(previewEncoderState()).toBe('warm');
    expect(warmPreviewEncoder()).toBe(first);
  });
});
