import sharp from 'sharp';

/** Real media files for tests: a WAV encoded here, animated WebP/GIF made with sharp. */

/** 16-bit PCM WAV of a sine tone; `extraChunk` puts a LIST chunk (odd size, padded) before `data`. */
export function encodeWav(options: { seconds: number; sampleRate?: number; channels?: number; extraChunk?: boolean }): Buffer {
  const rate = options.sampleRate ?? 8000;
  const channels = options.channels ?? 1;
  const frames = Math.round(options.seconds * rate);
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000);
    for (let c = 0; c < channels; c++) data.writeInt16LE(v, (i * channels + c) * 2);
  }
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * channels * 2, 16);
  fmt.writeUInt16LE(channels * 2, 20);
  fmt.writeUInt16LE(16, 22);
  const list = options.extraChunk ? Buffer.concat([Buffer.from('LIST', 'latin1'), u32(5), Buffer.from('INFOx\0', 'latin1')]) : Buffer.alloc(0);
  const dataHead = Buffer.concat([Buffer.from('data', 'latin1'), u32(data.length)]);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), fmt, list, dataHead, data]);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), u32(body.length), body]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** Frame i is a flat colour: red, green, blue, then greys. */
export const FRAME_COLOURS = [
  { r: 220, g: 20, b: 20 },
  { r: 20, g: 220, b: 20 },
  { r: 20, g: 20, b: 220 },
  { r: 128, g: 128, b: 128 },
  { r: 60, g: 60, b: 60 },
];

export async function animatedImage(format: 'webp' | 'gif', width: number, height: number, delaysMs: number[]): Promise<Buffer> {
  const frames = await Promise.all(
    delaysMs.map((_, i) => sharp({ create: { width, height, channels: 3, background: FRAME_COLOURS[i % FRAME_COLOURS.length]! } }).raw().toBuffer()),
  );
  const strip = sharp(Buffer.concat(frames), { raw: { width, height: height * frames.length, channels: 3, pageHeight: height } });
  return format === 'webp' ? strip.webp({ delay: delaysMs, loop: 0, lossless: true }).toBuffer() : strip.gif({ delay: delaysMs }).toBuffer();
}

/**
 * A real video made by the given ffmpeg from lavfi's colour source: `seconds` of one flat colour
 * (FRAME_COLOURS[0], the first frame a poster shows) at `fps`. H.264 in MP4, or VP9 in WebM.
 */
export async function encodeVideo(
  ffmpeg: string,
  out: string,
  options: { width: number; height: number; seconds: number; fps?: number; format?: 'mp4' | 'webm' },
): Promise<void> {
  const { runFfmpeg } = await import('../../src/media/ffmpeg.js');
  const c = FRAME_COLOURS[0]!;
  const hex = [c.r, c.g, c.b].map((v) => v.toString(16).padStart(2, '0')).join('');
  const source = `color=c=0x${hex}:s=${options.width}x${options.height}:r=${options.fps ?? 10}:d=${options.seconds}`;
  const codec = options.format === 'webm' ? ['-c:v', 'libvpx-vp9', '-b:v', '200k'] : ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const run = await runFfmpeg(ffmpeg, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, ...codec, out], 60_000);
  if (run.code !== 0) throw new Error(`ffmpeg could not encode ${out}: ${run.stderr.trim()}`);
}
