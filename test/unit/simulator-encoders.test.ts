/** The simulator's file encoders: FLAC (SaveAudio), animated PNG and WebP, and the upscale factor. */
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { encodeApng } from '../../src/simulator/apng.js';
import { crc16, crc8, encodeFlac, utf8Number } from '../../src/simulator/flac.js';
import { animatedWebp } from '../../src/simulator/nodes/animation-nodes.js';
import { scaleOf } from '../../src/simulator/nodes/model-nodes.js';
import { solid } from '../../src/simulator/nodes/pixels.js';

const CHECK = Buffer.from('123456789', 'ascii');

test('CRCs match the published check values of CRC-8/SMBUS and CRC-16/UMTS', () => {
  expect(crc8(CHECK)).toBe(0xf4);
  expect(crc16(CHECK)).toBe(0xfee8);
});

test('frame numbers are coded like UTF-8 at each length boundary', () => {
  expect([...utf8Number(0x7f)]).toEqual([0x7f]);
  expect([...utf8Number(0x80)]).toEqual([0xc2, 0x80]);
  expect([...utf8Number(0x7ff)]).toEqual([0xdf, 0xbf]);
  expect([...utf8Number(0x800)]).toEqual([0xe0, 0xa0, 0x80]);
  expect([...utf8Number(0xffff)]).toEqual([0xef, 0xbf, 0xbf]);
});

/** A reader for what encodeFlac writes: checks every frame's CRCs and gives the samples back. */
function decodeVerbatimFlac(file: Buffer): { sampleRate: number; channels: Int16Array[]; comments: string[] } {
  expect(file.toString('ascii', 0, 4)).toBe('fLaC');
  let at = 4;
  let sampleRate = 0;
  let count = 0;
  let total = 0;
  const comments: string[] = [];
  for (let last = false; !last;) {
    last = (file[at]! & 0x80) !== 0;
    const type = file[at]! & 0x7f;
    const length = file.readUIntBE(at + 1, 3);
    const body = file.subarray(at + 4, at + 4 + length);
    if (type === 0) {
      const packed = body.readBigUInt64BE(10);
      sampleRate = Number(packed >> 44n);
      count = Number((packed >> 41n) & 7n) + 1;
      total = Number(packed & 0xfffffffffn);
    }
    if (type === 4) {
      let p = 4 + body.readUInt32LE(0);
      const n = body.readUInt32LE(p);
      p += 4;
      for (let i = 0; i < n; i++) { const len = body.readUInt32LE(p); comments.push(body.toString('utf8', p + 4, p + 4 + len)); p += 4 + len; }
    }
    at += 4 + length;
  }
  const channels = Array.from({ length: count }, () => new Int16Array(total));
  let done = 0;
  while (at < file.length) {
    expect(file.readUInt16BE(at)).toBe(0xfff8);
    const numberLength = file[at + 4]! < 0x80 ? 1 : Math.clz32(~(file[at + 4]! << 24));
    const headerEnd = at + 4 + numberLength + 2;
    const size = file.readUInt16BE(at + 4 + numberLength) + 1;
    expect(crc8(file.subarray(at, headerEnd))).toBe(file[headerEnd]);
    let p = headerEnd + 1;
    for (const channel of channels) {
      expect(file[p]).toBe(0x02);
      p++;
      for (let i = 0; i < size; i++, p += 2) channel[done + i] = file.readInt16BE(p);
    }
    expect(crc16(file.subarray(at, p))).toBe(file.readUInt16BE(p));
    done += size;
    at = p + 2;
  }
  expect(done).toBe(total);
  return { sampleRate, channels, comments };
}

test('FLAC: STREAMINFO, comments, and samples that decode back across many frames', () => {
  const n = 4096 * 130 + 17; // > 128 frames: two-byte frame numbers; a short last block
  const left = new Float32Array(n).map((_, i) => Math.sin(i / 10) * 0.5);
  const right = new Float32Array(n).map((_, i) => (i % 2 === 0 ? 1 : -1));
  const { sampleRate, channels, comments } = decodeVerbatimFlac(encodeFlac([left, right], 44100, { prompt: '{"1":{}}' }));
  expect(sampleRate).toBe(44100);
  expect(comments).toEqual(['prompt={"1":{}}']);
  expect(channels[0]![4097]).toBe(Math.round(left[4097]! * 32767));
  expect(channels[1]![n - 1]).toBe((n - 1) % 2 === 0 ? 32767 : -32767);
  expect(() => encodeFlac([left, new Float32Array(3)], 44100)).toThrow(RangeError);
});

test('APNG: acTL counts the frames, sequence numbers run on, and a plain reader sees the first frame', async () => {
  const frames = [solid(4, 3, 0xff0000), solid(4, 3, 0x00ff00), solid(4, 3, 0x0000ff)];
  const file = encodeApng(frames, 4);
  const chunks: Array<{ type: string; data: Buffer }> = [];
  for (let at = 8; at < file.length;) {
    const length = file.readUInt32BE(at);
    chunks.push({ type: file.toString('ascii', at + 4, at + 8), data: file.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'acTL', 'fcTL', 'IDAT', 'fcTL', 'fdAT', 'fcTL', 'fdAT', 'IEND']);
  expect(chunks[1]!.data.readUInt32BE(0)).toBe(3);
  const sequence = chunks.filter((c) => c.type === 'fcTL' || c.type === 'fdAT').map((c) => c.data.readUInt32BE(0));
  expect(sequence).toEqual([0, 1, 2, 3, 4]);
  expect([chunks[2]!.data.readUInt16BE(20), chunks[2]!.data.readUInt16BE(22)]).toEqual([250, 1000]);
  // The last frame's pixels: blue.
  expect([...inflateSync(chunks[7]!.data.subarray(4)).subarray(1, 4)]).toEqual([0, 0, 255]);
  const { data } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]);
});

test('animated WebP: one page per frame, the delay from fps, looping', async () => {
  const frames = [solid(16, 8, 0xff0000), solid(16, 8, 0x00ff00)];
  const meta = await sharp(await animatedWebp(frames, 4, true, 80, 0), { animated: true }).metadata();
  expect(meta).toMatchObject({ format: 'webp', pages: 2, width: 16, pageHeight: 8, delay: [250, 250], loop: 0 });
});

test.each([['RealESRGAN_x4plus.pth', 4], ['4x-UltraSharp.pth', 4], ['2x_foo.safetensors', 2], ['RealESRGAN_x2.pth', 2], ['plain.pth', 4]])('%s upscales by %i', (name, scale) => {
  expect(scaleOf(name)).toBe(scale);
});
