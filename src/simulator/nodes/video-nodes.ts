import { encodeFlac } from '../flac.js';
import { encodeVideoFrames, ffmpegEncoders, H264_MP4, requireFfmpeg, type VideoTarget } from '../video-encode.js';
import { NodeException, type Audio, type ImageBatch, type NodeImpl, type Video } from './types.js';

/**
 * comfy_extras/nodes_video.py: CreateVideo holds frames, rate and soundtrack as a VIDEO;
 * SaveVideo encodes it (H.264 in MP4, the only codec and container of 0.3.64's combos) and
 * SaveWEBM encodes an IMAGE batch as VP9 or AV1. Both report ui.PreviewVideo:
 * `{"images": [{filename, subfolder, type}], "animated": [true]}`, so a video arrives under
 * `images` and only its extension and `animated` tell it from a still.
 */

export const CreateVideo: NodeImpl = {
  async run(inputs) {
    const video: Video = { kind: 'VIDEO', frames: inputs.images as ImageBatch, fps: Number(inputs.fps) };
    if (inputs.audio) video.audio = inputs.audio as Audio;
    return { outputs: [video] };
  },
};

export const SaveVideo: NodeImpl = {
  async run(inputs, ctx) {
    const video = inputs.video as Video;
    const bin = requireFfmpeg(await ctx.ffmpeg());
    // The first batch item's waveform, as VideoFromComponents muxes it.
    const soundtrack = video.audio?.waveform[0] ? encodeFlac(video.audio.waveform[0], video.audio.sampleRate) : undefined;
    const bytes = await encodeVideoFrames(bin, video.frames, video.fps, H264_MP4, undefined, soundtrack);
    const images = await ctx.files.saveFiles([bytes], String(inputs.filename_prefix), 'mp4');
    return { outputs: [], ui: { images, animated: [true] } };
  },
};

export const SaveWEBM: NodeImpl = {
  async run(inputs, ctx) {
    const frames = inputs.images as ImageBatch;
    const bin = requireFfmpeg(await ctx.ffmpeg());
    const crf = String(Number(inputs.crf));
    const target = inputs.codec === 'av1' ? await av1Target(bin, crf) : vp9Target(crf);
    const bytes = await encodeVideoFrames(bin, frames, Number(inputs.fps), target);
    const images = await ctx.files.saveFiles([bytes], String(inputs.filename_prefix), 'webm');
    return { outputs: [], ui: { images, animated: [true] } };
  },
};

function vp9Target(crf: string): VideoTarget {
  return { container: 'webm', codecArgs: ['-c:v', 'libvpx-vp9', '-crf', crf, '-b:v', '0', '-pix_fmt', 'yuv420p'] };
}

/** ComfyUI uses libsvtav1; the packaged ffmpeg 4.1 has only libaom-av1 (still "experimental" there). */
async function av1Target(bin: string, crf: string): Promise<VideoTarget> {
  const encoders = await ffmpegEncoders(bin);
  if (encoders.has('libsvtav1')) return { container: 'webm', codecArgs: ['-c:v', 'libsvtav1', '-crf', crf, '-preset', '6', '-pix_fmt', 'yuv420p'] };
  if (encoders.has('libaom-av1')) {
    return { container: 'webm', codecArgs: ['-c:v', 'libaom-av1', '-strict', 'experimental', '-crf', crf, '-b:v', '0', '-cpu-used', '8', '-pix_fmt', 'yuv420p'] };
  }
  throw new NodeException('this ffmpeg has no AV1 encoder (libsvtav1 or libaom-av1): choose the vp9 codec, or point COMFYWIRE_FFMPEG at an ffmpeg built with one', 'ValueError');
}
