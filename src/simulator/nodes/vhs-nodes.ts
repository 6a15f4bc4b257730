import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from '../png.js';
import { frameStrip } from './animation-nodes.js';
import { encodeVideoFrames, requireFfmpeg, type VideoTarget } from '../video-encode.js';
import { NodeException, type ImageBatch, type NodeImpl } from './types.js';

/**
 * VideoHelperSuite's VHS_VideoCombine (videohelpersuite/nodes.py), for hosts with the pack
 * installed: GIF and WebP through an image library, H.264 MP4 and VP9 WebM through ffmpeg fed raw
 * RGB frames. It names its files `<prefix>_<counter:05>.<ext>` (no trailing underscore) with a
 * counter of its own, writes the first frame as a PNG next to them (the workflow image), and
 * reports one entry under `gifs` with the fields VHS sends: filename, subfolder, type, format,
 * frame_rate, workflow, fullpath (a path on the server, useless to a remote client).
 */

const FFMPEG_FORMATS: Readonly<Record<string, { extension: string; codec: (crf: string, pixFmt: string) => string[] }>> = {
  'video/h264-mp4': { extension: 'mp4', codec: (crf, pixFmt) => ['-c:v', 'libx264', '-pix_fmt', pixFmt, '-crf', crf] },
  'video/webm': { extension: 'webm', codec: (crf, pixFmt) => ['-c:v', 'libvpx-vp9', '-pix_fmt', pixFmt, '-crf', crf, '-b:v', '0'] },
};

export const VHS_VideoCombine: NodeImpl = {
  async run(inputs, ctx) {
    let frames = inputs.images as ImageBatch;
    const first = frames[0];
    if (!first) throw new NodeException('VHS_VideoCombine: no images to combine', 'ValueError');
    // pingpong: forwards then back, without repeating the two ends.
    if (inputs.pingpong === true) frames = [...frames, ...frames.slice(1, -1).reverse()];
    const fps = Number(inputs.frame_rate);
    const format = String(inputs.format);
    const saveOutput = inputs.save_output !== false;
    const { dir, subfolder, filename } = await ctx.files.saveFolder(String(inputs.filename_prefix), saveOutput ? 'output' : 'temp');
    const counter = String(nextVhsCounter(dir, filename)).padStart(5, '0');
    const workflow = `${filename}_${counter}.png`;
    await writeFile(path.join(dir, workflow), encodePng(first.width, first.height, first.data, ctx.pngText));

    let bytes: Uint8Array;
    let extension: string;
    const ffmpegFormat = FFMPEG_FORMATS[format];
    if (ffmpegFormat) {
      const bin = requireFfmpeg(await ctx.ffmpeg());
      const crf = String(inputs.crf ?? (format === 'video/webm' ? 20 : 19));
      const pixFmt = typeof inputs.pix_fmt === 'string' && /^yuva?420p(10le)?$/.test(inputs.pix_fmt) ? inputs.pix_fmt : 'yuv420p';
      const target: VideoTarget = { container: ffmpegFormat.extension as VideoTarget['container'], codecArgs: ffmpegFormat.codec(crf, pixFmt) };
      bytes = await encodeVideoFrames(bin, frames, fps, target);
      extension = ffmpegFormat.extension;
    } else if (format === 'image/gif' || format === 'image/webp') {
      extension = format.slice('image/'.length);
      bytes = await pillowAnimation(frames, fps, Number(inputs.loop_count), extension as 'gif' | 'webp');
    } else {
      throw new NodeException(`VHS_VideoCombine: unknown format ${format.slice(0, 40)}`, 'ValueError');
    }
    const file = `${filename}_${counter}.${extension}`;
    const fullpath = path.join(dir, file);
    await writeFile(fullpath, bytes);
    const preview = { filename: file, subfolder, type: saveOutput ? 'output' : 'temp', format, frame_rate: fps, workflow, fullpath };
    return { outputs: [[saveOutput, [path.join(dir, workflow), fullpath]]], ui: { gifs: [preview] } };
  },
};

/** VHS's own counter: the highest `<prefix>_<digits><non-digits>.<ext>` in the folder, plus one. */
function nextVhsCounter(dir: string, filename: string): number {
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const matcher = new RegExp(`^${escaped}_(\\d+)\\D*\\..+$`, 'i');
  let max = 0;
  for (const f of readdirSync(dir)) {
    const m = matcher.exec(f);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

/** What VHS asks Pillow for: every frame 1000/fps ms, looping loop_count times (0: forever). */
async function pillowAnimation(frames: ImageBatch, fps: number, loop: number, format: 'gif' | 'webp'): Promise<Buffer> {
  const delay = frames.map(() => Math.round(1000 / fps));
  const strip = await frameStrip(frames);
  return format === 'gif' ? strip.gif({ loop, delay }).toBuffer() : strip.webp({ loop, delay, quality: 80 }).toBuffer();
}
