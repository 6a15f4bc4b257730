import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { packagedFfmpeg, probeWithFfmpeg, videoPoster } from '../../src/media/ffmpeg.js';
import type { RgbImage } from '../../src/simulator/nodes/types.js';
import { encodeVideoFrames, ffmpegEncoders, H264_MP4, NO_FFMPEG_MESSAGE, requireFfmpeg, VIDEO_ENCODE_TIMEOUT_MS } from '../../src/simulator/video-encode.js';
import { advance, untilReal, useFakeClock, useRealClock } from '../helpers/fake-clock.js';
import { FRAME_COLOURS } from '../helpers/media.js';

/**
 * The simulator's video writer: raw frames piped to a real ffmpeg come out as files the product's
 * own probe reads back (size, duration = frames / fps, the first frame's colour); a hung ffmpeg is
 * killed at the deadline, not before; no ffmpeg is a node error that says how to get one.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comfywire-video-encode-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function flat(width: number, height: number, c: { r: number; g: number; b: number }): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set([c.r, c.g, c.b], i * 3);
  return { width, height, data };
}

const frames = Array.from({ length: 12 }, (_, i) => flat(96, 64, FRAME_COLOURS[i % 3]!));

const packaged = packagedFfmpeg();
if (!packaged) process.stderr.write('simulator-video-encode: @ffmpeg-installer/ffmpeg is not installed: the real-encoder tests are skipped\n');
const withPackaged = packaged ? it : it.skip;

withPackaged.each([
  ['mp4', H264_MP4, 'ftyp'],
  ['webm', { container: 'webm', codecArgs: ['-c:v', 'libvpx-vp9', '-crf', '32', '-b:v', '0', '-pix_fmt', 'yuv420p'] }, '\x1a\x45\xdf\xa3'],
] as const)('12 frames at 8 fps become a real %s: its size, 1.5 s, the first frame red', async (ext, target, magic) => {
  const bytes = await encodeVideoFrames(packaged!, frames, 8, target);
  expect(bytes.toString('latin1', ext === 'mp4' ? 4 : 0, ext === 'mp4' ? 8 : 4)).toBe(magic);
  const file = join(dir, `clip.${ext}`);
  writeFileSync(file, bytes);
  const facts = await probeWithFfmpeg(packaged!, file);
  expect([facts.width, facts.height]).toEqual([96, 64]);
  expect(Math.abs(facts.durationS! - 1.5)).toBeLessThanOrEqual(1 / 8);
  const poster = await sharp(await videoPoster(packaged!, file)).raw().toBuffer({ resolveWithObject: true });
  const at = (32 * 96 + 48) * poster.info.channels;
  const want = FRAME_COLOURS[0]!;
  expect(Math.abs(poster.data[at]! - want.r) + Math.abs(poster.data[at + 1]! - want.g) + Math.abs(poster.data[at + 2]! - want.b)).toBeLessThan(60);
});

withPackaged('a soundtrack is muxed in and cut to the picture', async () => {
  const { encodeFlac } = await import('../../src/simulator/flac.js');
  const tone = new Float32Array(44100 * 3).map((_, i) => 0.3 * Math.sin(i / 10));
  const bytes = await encodeVideoFrames(packaged!, frames, 8, H264_MP4, undefined, encodeFlac([tone, tone], 44100));
  const file = join(dir, 'sound.mp4');
  writeFileSync(file, bytes);
  const { stderr } = await import('../../src/media/ffmpeg.js').then((m) => m.runFfmpeg(packaged!, ['-i', file]));
  expect(stderr).toMatch(/Audio: aac/);
  expect((await probeWithFfmpeg(packaged!, file)).durationS).toBeLessThan(1.7);
});

withPackaged('ffmpeg refusing the frames (an odd size for H.264 4:2:0) is a node error carrying its complaint', async () => {
  await expect(encodeVideoFrames(packaged!, [flat(33, 33, FRAME_COLOURS[0]!)], 8, H264_MP4)).rejects.toMatchObject({
    name: 'NodeException', message: expect.stringMatching(/^ffmpeg could not encode the video: .*divisible by 2/s),
  });
});

withPackaged('the packaged ffmpeg lists its encoders: H.264, VP9 and an AV1 one', async () => {
  const encoders = await ffmpegEncoders(packaged!);
  expect(encoders.has('libx264')).toBe(true);
  expect(encoders.has('libvpx-vp9')).toBe(true);
  expect(encoders.has('libaom-av1') || encoders.has('libsvtav1')).toBe(true);
});

it('frames of different sizes, or none, are refused before ffmpeg is started', async () => {
  await expect(encodeVideoFrames('/nonexistent/ffmpeg', [], 8, H264_MP4)).rejects.toThrow('no images to encode into a video');
  await expect(encodeVideoFrames('/nonexistent/ffmpeg', [flat(8, 8, FRAME_COLOURS[0]!), flat(16, 8, FRAME_COLOURS[0]!)], 8, H264_MP4)).rejects.toThrow(
    'every frame of a video must be the size of the first',
  );
});

it('no ffmpeg: a node error that says to install ffmpeg or the optional dependency', () => {
  expect(() => requireFfmpeg(undefined)).toThrow(NO_FFMPEG_MESSAGE);
  expect(NO_FFMPEG_MESSAGE).toMatch(/install ffmpeg.*COMFYWIRE_FFMPEG.*@ffmpeg-installer\/ffmpeg/);
  expect(requireFfmpeg('/usr/bin/ffmpeg')).toBe('/usr/bin/ffmpeg');
});

const posix = process.platform === 'win32' ? it.skip : it;
posix('an ffmpeg that never finishes is killed at VIDEO_ENCODE_TIMEOUT_MS, not before', async () => {
  const hung = join(dir, 'hung-ffmpeg');
  const started = join(dir, 'hung-started');
  // It says when it runs (the deadline counts from the spawn), then never reads a frame nor exits.
  writeFileSync(hung, `#!/bin/sh\ntouch '${started}'\nexec sleep 600\n`);
  chmodSync(hung, 0o755);
  useFakeClock();
  try {
    let settled: unknown;
    const run = encodeVideoFrames(hung, frames, 8, H264_MP4).then(
      () => (settled = 'answered'),
      (e: Error) => (settled = e),
    );
    await untilReal(() => existsSync(started));
    await advance(VIDEO_ENCODE_TIMEOUT_MS - 1, { stepMs: 5_000 });
    expect(settled).toBeUndefined();
    await advance(1);
    await run;
    expect(settled).toBeInstanceOf(Error);
    expect((settled as Error).message).toBe(`ffmpeg did not finish encoding the video within ${VIDEO_ENCODE_TIMEOUT_MS / 1000} s`);
  } finally {
    useRealClock();
  }
});
