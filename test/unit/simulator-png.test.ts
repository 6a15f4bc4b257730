import sharp from 'sharp';
import { crc32, encodePng } from '../../src/simulator/png.js';
import { patternFromText } from '../../src/simulator/nodes/pixels.js';

describe('simulator PNG encoder', () => {
  it('produces a PNG that sharp decodes to the same size and pixels', async () => {
    const width = 5;
    const height = 3;
    const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 17) % 256);
    const png = encodePng(width, height, rgb, { prompt: '{"1":{}}' });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([width, height, 3]);
    expect([...data]).toEqual([...rgb]);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('IEND'))).toBe(0xae426082);
  });

  it('rejects a pixel buffer of the wrong size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(3))).toThrow(RangeError);
  });

  it('derives generated pixels deterministically from the key', () => {
    expect(patternFromText(8, 8, 'a cat|42').data).toEqual(patternFromText(8, 8, 'a cat|42').data);
    expect(patternFromText(8, 8, 'a cat|42').data).not.toEqual(patternFromText(8, 8, 'a dog|42').data);
  });
});
