import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { silentLogger } from '../../src/logger.js';
import { FFMPEG_TIMEOUT_MS, findFfmpeg, locateFfmpeg, packagedFfmpeg, parseFfmpegInfo, runFfmpeg } from '../../src/media/ffmpeg.js';
import { advance, useFakeClock, useRealClock } from '../helpers/fake-clock.js';
import { probeMedia } from '../../src/media/probe.js';
import { parseWavHeader } from '../../src/media/wav.js';
import { outputPreviews } from '../../src/mcp/output-previews.js';
import type { OutputFileView } from '../../src/mcp/outputs.js';
import { animatedImage, encodeVideo, encodeWav, FRAME_COLOURS } from '../helpers/media.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comfywire-media-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(name: string, data: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

describe('WAV header', () => {
  it('reads channels, rate and the duration from the data size and byte rate', () => {
    const wav = encodeWav({ seconds: 1.5, sampleRate: 8000, channels: 2 });
    expect(parseWavHeader(wav)).toEqual({ format: 1, channels: 2, sampleRate: 8000, bitsPerSample: 16, dataBytes: 48_000, durationS: 1.5 });
  });
  it('skips other chunks (odd sizes padded) before data, and reads from the first bytes only', () => {
    const wav = encodeWav({ seconds: 0.25, extraChunk: true });
    expect(parseWavHeader(wav.subarray(0, 256), wav.length)?.durationS).toBe(0.25);
  });
  it('a streamed WAV (data size 0) counts the rest of the file; a truncated one what is there', () => {
    const wav = encodeWav({ seconds: 1 });
    const streamed = Buffer.from(wav);
    streamed.writeUInt32LE(0, 40);
    expect(parseWavHeader(streamed)?.durationS).toBe(1);
    expect(parseWavHeader(wav.subarray(0, 44 + 8000))?.durationS).toBe(0.5);
  });
  it('is not fooled by other RIFF files or garbage', () => {
    expect(parseWavHeader(Buffer.from('RIFF\0\0\0\0AVI LIST'))).toBeUndefined();
    expect(parseWavHeader(Buffer.from('not a wav at all'))).toBeUndefined();
    const noFmt = Buffer.concat([Buffer.from('RIFF\x0c\0\0\0WAVEdata\0\0\0\0', 'latin1')]);
    expect(parseWavHeader(noFmt)).toBeUndefined();
  });
});

describe('probe', () => {
  it('an animated WebP: frames, one frame\'s size, duration = the sum of delays', async () => {
    const path = put('anim.webp', await animatedImage('webp', 40, 30, [100, 200, 300]));
    expect(await probeMedia(path, { filename: 'anim.webp', uiKey: 'images' })).toMatchObject({ kind: 'animated', mime: 'image/webp', width: 40, height: 30, frames: 3, duration_s: 0.6 });
  });
  it('an animated GIF under VideoHelperSuite\'s `gifs` key; a one-frame WebP is an image unless the node flags it', async () => {
    const gif = put('clip.gif', await animatedImage('gif', 24, 16, [50, 50]));
    expect(await probeMedia(gif, { filename: 'clip.gif', uiKey: 'gifs' })).toMatchObject({ kind: 'animated', frames: 2, duration_s: 0.1, width: 24, height: 16 });
    const still = put('still.webp', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).webp().toBuffer());
    expect(await probeMedia(still, { filename: 'still.webp', uiKey: 'images' })).toMatchObject({ kind: 'image', width: 8 });
    expect((await probeMedia(still, { filename: 'still.webp', uiKey: 'images', animated: true })).kind).toBe('animated');
  });
  it('WAV duration without ffmpeg; meshes, latents, text and unknown files by extension with their size', async () => {
    const wav = put('a.wav', encodeWav({ seconds: 0.75 }));
    expect(await probeMedia(wav, { filename: 'a.wav', uiKey: 'audio' })).toMatchObject({ kind: 'audio', mime: 'audio/wav', duration_s: 0.75, bytes: 44 + 12_000 });
    expect(await probeMedia(put('m.glb', 'glTF'), { filename: 'm.glb', uiKey: '3d' })).toEqual({ kind: '3d', mime: 'model/gltf-binary', bytes: 4 });
    expect(await probeMedia(put('l.latent', 'x'.repeat(10)), { filename: 'l.latent', uiKey: 'latents' })).toEqual({ kind: 'latent', mime: 'application/octet-stream', bytes: 10 });
    expect((await probeMedia(put('n.xyz', 'x'), { filename: 'n.xyz', uiKey: 'stuff' })).kind).toBe('other');
    // A file that claims to be an image but is not: listed, never thrown.
    expect(await probeMedia(put('bad.png', 'nope'), { filename: 'bad.png' })).toEqual({ kind: 'image', mime: 'image/png', bytes: 4 });
  });
  it('an mp4 without ffmpeg: a video, its size, no guessed duration', async () => {
    expect(await probeMedia(put('v.mp4', 'not really'), { filename: 'v.mp4', uiKey: 'gifs' }, {})).toEqual({ kind: 'video', mime: 'video/mp4', bytes: 10 });
  });
  it("reads duration and picture size from ffmpeg's description of its input", () => {
    const text = "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':\n  Duration: 00:01:02.50, start: 0.000000, bitrate: 10 kb/s\n  Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 640x360 [SAR 1:1 DAR 16:9], 8 kb/s, 24 fps\n";
    expect(parseFfmpegInfo(text)).toEqual({ durationS: 62.5, width: 640, height: 360 });
    expect(parseFfmpegInfo('garbage')).toEqual({});
  });
});

describe('video previews and the decoder', () => {
  const video = (path: string): OutputFileView => ({ path, filename: 'v.mp4', comfy_filename: 'v.mp4', node_id: '1', kind: 'video', mime: 'video/mp4', bytes: 10, uri: 'comfywire://outputs/p/v.mp4' });

  const nonePackaged = () => undefined;

  it('no ffmpeg (off, or none on PATH and none packaged): no poster, a note that says how to get one, the file still linked', async () => {
    expect(await findFfmpeg('off')).toBeUndefined();
    expect(await findFfmpeg(undefined, join(dir, 'empty-path'), nonePackaged)).toBeUndefined();
    expect(await findFfmpeg(join(dir, 'no-such-ffmpeg'))).toBeUndefined();
    const out = await outputPreviews([video(put('v.mp4', 'x'))], { ffmpeg: undefined, logger: silentLogger() });
    expect(out.content).toEqual([]);
    expect(out.lines.join('\n')).toMatch(/No preview of v\.mp4: no video decoder: install ffmpeg or set COMFYWIRE_FFMPEG for a poster frame\. It is linked: comfywire:\/\/outputs\/p\/v\.mp4/);
  });

  // Stand-in binaries are shell scripts.
  const posix = process.platform === 'win32' ? it.skip : it;

  posix('an ffmpeg (found on PATH or configured): its first frame, as a JPEG of the frame\'s size', async () => {
    // A stand-in ffmpeg that writes a 96x54 PNG whatever it is asked: the plumbing, not the codec.
    const bin = join(dir, 'bin');
    put('poster.png', await sharp({ create: { width: 96, height: 54, channels: 3, background: '#2050f0' } }).png().toBuffer());
    mkdirSync(bin, { recursive: true });
    const fake = put('bin/ffmpeg', `#!/bin/sh\ncat '${join(dir, 'poster.png')}'\n`);
    chmodSync(fake, 0o755);
    expect(await findFfmpeg(undefined, bin)).toBe(fake);
    // PATH's wins over the packaged one; the packaged one is used when PATH has none, and only if it can run.
    expect(await locateFfmpeg(undefined, bin, () => '/packaged/ffmpeg')).toEqual({ path: fake, from: 'PATH' });
    expect(await locateFfmpeg(undefined, join(dir, 'empty-path'), () => fake)).toEqual({ path: fake, from: '@ffmpeg-installer/ffmpeg' });
    expect(await locateFfmpeg(undefined, join(dir, 'empty-path'), () => join(dir, 'poster.png'))).toBeUndefined();
    expect(await locateFfmpeg(fake, '', nonePackaged)).toEqual({ path: fake, from: 'COMFYWIRE_FFMPEG' });
    const out = await outputPreviews([video(put('v2.mp4', 'x'))], { ffmpeg: fake, logger: silentLogger() });
    expect(out.content).toHaveLength(1);
    const img = out.content[0] as { type: string; data: string; mimeType: string };
    expect(img).toMatchObject({ type: 'image', mimeType: 'image/jpeg' });
    const meta = await sharp(Buffer.from(img.data, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 96, 54]);
    expect(out.lines.join('\n')).toMatch(/v\.mp4: video; the preview is its first frame/);
  });

  posix('an ffmpeg that never answers is killed at FFMPEG_TIMEOUT_MS, not before', async () => {
    const hung = put('hung-ffmpeg', '#!/bin/sh\nexec sleep 60\n');
    chmodSync(hung, 0o755);
    useFakeClock();
    try {
      let settled: unknown;
      const run = runFfmpeg(hung, ['-i', 'x']).then(
        () => (settled = 'answered'),
        (e: Error) => (settled = e),
      );
      await advance(FFMPEG_TIMEOUT_MS - 1);
      expect(settled).toBeUndefined();
      await advance(1);
      await run;
      expect(settled).toBeInstanceOf(Error);
      expect((settled as Error).message).toBe(`ffmpeg gave no answer within ${FFMPEG_TIMEOUT_MS / 1000} s`);
    } finally {
      useRealClock();
    }
  });

  // The optional dependency, as `npm ci` installs it; an install without optional packages skips (and says so).
  const packaged = packagedFfmpeg();
  if (!packaged) process.stderr.write('media-probe: @ffmpeg-installer/ffmpeg is not installed: the real-decoder tests are skipped\n');
  const withPackaged = packaged ? it : it.skip;

  withPackaged.each(['mp4', 'webm'] as const)('the packaged ffmpeg: a real %s gets its duration, its size and a poster of its first frame', async (format) => {
    const file = join(dir, `real.${format}`);
    await encodeVideo(packaged!, file, { width: 96, height: 54, seconds: 1.5, fps: 10, format });
    const info = await probeMedia(file, { filename: `real.${format}`, uiKey: 'gifs' }, { ffmpeg: packaged });
    expect(info).toMatchObject({ kind: 'video', mime: format === 'mp4' ? 'video/mp4' : 'video/webm', width: 96, height: 54 });
    expect(info.duration_s).toBeCloseTo(1.5, 1);
    const view: OutputFileView = { ...video(file), filename: `real.${format}`, mime: info.mime, bytes: info.bytes, duration_s: info.duration_s };
    const out = await outputPreviews([view], { ffmpeg: packaged, logger: silentLogger() });
    const img = out.content[0] as { type: string; data: string };
    expect(img.type).toBe('image');
    const poster = await sharp(Buffer.from(img.data, 'base64')).raw().toBuffer({ resolveWithObject: true });
    expect([poster.info.width, poster.info.height]).toEqual([96, 54]);
    const at = (27 * 96 + 48) * poster.info.channels;
    const want = FRAME_COLOURS[0]!;
    expect(Math.abs(poster.data[at]! - want.r) + Math.abs(poster.data[at + 1]! - want.g) + Math.abs(poster.data[at + 2]! - want.b)).toBeLessThan(60);
    expect(out.lines.join('\n')).toMatch(new RegExp(`real\\.${format}: video, 1\\.50 s; the preview is its first frame`));
  });

  withPackaged('a file that is not a video: no poster, the reason given, the file still linked', async () => {
    const out = await outputPreviews([video(put('junk.mp4', Buffer.alloc(4096, 7)))], { ffmpeg: packaged, logger: silentLogger() });
    expect(out.content).toEqual([]);
    expect(out.lines.join('\n')).toMatch(/No preview of v\.mp4: ffmpeg could not decode a frame of it\. It is linked: comfywire:\/\/outputs\/p\/v\.mp4/);
  });
});
