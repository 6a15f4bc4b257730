import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FfmpegTimeoutError, runFfmpeg } from '../media/ffmpeg.js';
import { NodeException, type RgbImage } from './nodes/types.js';

/**
 * The simulator's video writer: raw RGB frames piped to ffmpeg (`-f rawvideo -pix_fmt rgb24 -s WxH
 * -r fps -i -`, as VideoHelperSuite does), so tests get real H.264 MP4 and VP9/AV1 WebM files.
 * ffmpeg writes to a file of its own temp folder (an MP4's index goes at the end, which a pipe
 * cannot seek back to); the bytes are returned for the node to save under output/.
 */

/** One encode of a short clip takes well under a second; more means a hung ffmpeg, killed then. */
export const VIDEO_ENCODE_TIMEOUT_MS = 60_000;

/** What a node asks for: a codec and a container, both in ffmpeg's words. */
export interface VideoTarget {
  /** ffmpeg's `-f` muxer: mp4, webm. */
  container: 'mp4' | 'webm';
  /** Encoder arguments after the input: `-c:v libx264 -pix_fmt yuv420p`... */
  codecArgs: readonly string[];
}

export const H264_MP4: VideoTarget = { container: 'mp4', codecArgs: ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'] };

/** The message a node raises when there is no ffmpeg: says how to get one. */
export const NO_FFMPEG_MESSAGE =
  'ffmpeg is not available to encode video: install ffmpeg (on PATH), set COMFYWIRE_FFMPEG to its path, or install the optional dependency @ffmpeg-installer/ffmpeg';

/** Raises what a real node raises when it cannot encode: a node error, not a crashed server. */
export function requireFfmpeg(bin: string | undefined): string {
  if (!bin) throw new NodeException(NO_FFMPEG_MESSAGE, 'FileNotFoundError');
  return bin;
}

/** The names in `ffmpeg -encoders`: lets a node refuse a codec its ffmpeg lacks, clearly. */
export async function ffmpegEncoders(bin: string, timeoutMs = VIDEO_ENCODE_TIMEOUT_MS): Promise<Set<string>> {
  const { stdout } = await runFfmpeg(bin, ['-encoders'], timeoutMs);
  const names = new Set<string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const m = /^\s*[VAS][.A-Z]{5}\s+(\S+)/.exec(line);
    if (m?.[1]) names.add(m[1]);
  }
  return names;
}

/**
 * Encodes `frames` (all the size of the first) at `fps` and returns the file's bytes; rejects with
 * ffmpeg's own complaint when it fails, and kills it at `timeoutMs` (the global timers: tests move them).
 */
export async function encodeVideoFrames(
  bin: string,
  frames: readonly RgbImage[],
  fps: number,
  target: VideoTarget,
  timeoutMs = VIDEO_ENCODE_TIMEOUT_MS,
  /** A soundtrack (a FLAC file's bytes) muxed in, cut to the picture's length. */
  audio?: Uint8Array,
): Promise<Buffer> {
  const first = frames[0];
  if (!first) throw new NodeException('no images to encode into a video', 'ValueError');
  if (frames.some((f) => f.width !== first.width || f.height !== first.height)) {
    throw new NodeException('every frame of a video must be the size of the first', 'ValueError');
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'comfywire-video-'));
  const out = path.join(dir, `video.${target.container}`);
  try {
    const extraInputs: string[] = [];
    if (audio) {
      extraInputs.push(path.join(dir, 'audio.flac'));
      await writeFile(extraInputs[0]!, audio);
    }
    const args = [
      '-loglevel', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${first.width}x${first.height}`, '-r', String(fps), '-i', '-',
      ...extraInputs.flatMap((file) => ['-i', file]),
      ...target.codecArgs,
      ...(extraInputs.length > 0 ? ['-c:a', target.container === 'webm' ? 'libopus' : 'aac', '-shortest'] : []),
      '-f', target.container, out,
    ];
    const run = await runFfmpeg(bin, args, timeoutMs, frames.map((f) => f.data)).catch((e: unknown) => {
      // A real node that runs too long fails the prompt; so does this one (not the server).
      throw e instanceof FfmpegTimeoutError ? new NodeException(`ffmpeg did not finish encoding the video within ${timeoutMs / 1000} s`, 'TimeoutError') : e;
    });
    if (run.code !== 0) throw new NodeException(`ffmpeg could not encode the video: ${run.stderr.trim().slice(0, 500) || `exit code ${run.code}`}`);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
