import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Engine } from '../../src/engine.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { packagedFfmpeg } from '../../src/media/ffmpeg.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * Video through the MCP client, rendered by the simulator's real video nodes: the sd15-video
 * template (CreateVideo -> SaveVideo, an H.264 MP4 under `images` flagged `animated`) and
 * VideoHelperSuite's VHS_VideoCombine (files under `gifs`) on a host that has the pack. The
 * client lists each file with its kind, size and duration and shows a poster frame; without
 * ffmpeg on the ComfyUI side the node's error reaches the caller, and the server keeps serving.
 */

type Item = { type: string; data?: string; mimeType?: string; name?: string };
type FileRow = { filename: string; path: string; kind: string; mime: string; bytes: number; width?: number; height?: number; duration_s?: number; frames?: number };
type Locator = { filename: string; subfolder: string; type: string; [k: string]: unknown };

const packaged = packagedFfmpeg();
if (!packaged) process.stderr.write('mcp-video: @ffmpeg-installer/ffmpeg is not installed: the encoding tests are skipped\n');
const withFfmpeg = packaged ? test : test.skip;

/**
 * The VHS graph: `frames` frames combined in `format`; flat frames of one colour for a video (its
 * poster's colour is known), frames that differ (an empty latent decoded) for a GIF, whose encoder
 * would merge identical frames into one.
 */
let vhs: { format: string; frames: number; fps: number; saveOutput?: boolean } = { format: 'video/h264-mp4', frames: 10, fps: 8 };
const COLOUR = 0x2060c0;

/** Decoded empty latents: frames that differ from one another. */
function differingFrames(frames: number): Record<string, unknown> {
  return {
    '1': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '3': { class_type: 'EmptyLatentImage', inputs: { width: 80, height: 48, batch_size: frames } },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15-random.safetensors' } },
  };
}

/** SaveWEBM of `frames` frames at 8 fps in `codec`. */
let webm: { codec: string; frames: number } = { codec: 'vp9', frames: 8 };

async function prepare(_engine: Engine, request: GenerateRequest) {
  if (request.workflow === 'webm') {
    return {
      templateName: 'webm',
      prompt: { ...differingFrames(webm.frames), '2': { class_type: 'SaveWEBM', inputs: { images: ['1', 0], filename_prefix: 'clips/webm', codec: webm.codec, fps: 8, crf: 32 } } },
      values: {},
      notes: [],
    };
  }
  return {
    templateName: 'vhs',
    prompt: {
      ...(vhs.format.startsWith('video/')
        ? { '1': { class_type: 'EmptyImage', inputs: { width: 80, height: 48, batch_size: vhs.frames, color: COLOUR } } }
        : differingFrames(vhs.frames)),
      '2': { class_type: 'VHS_VideoCombine', inputs: { images: ['1', 0], frame_rate: vhs.fps, loop_count: 0, filename_prefix: 'clips/vhs', format: vhs.format, pingpong: false, save_output: vhs.saveOutput ?? true, crf: 19, pix_fmt: 'yuv420p', save_metadata: true } },
    },
    values: {},
    notes: [],
  };
}

let h: Harness;
let vhsHost: Harness;
beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 0 });
  vhsHost = await startHarness({ stepDelayMs: 0, deps: { prepare }, simulator: { customNodes: ['VideoHelperSuite'] } });
});
afterAll(async () => {
  await h?.close();
  await vhsHost?.close();
});

async function history(harness: Harness, promptId: string): Promise<Record<string, Record<string, unknown[]>>> {
  const all = (await (await fetch(`${harness.sim.url}/history/${promptId}`)).json()) as Record<string, { outputs: Record<string, Record<string, unknown[]>> }>;
  return all[promptId]!.outputs;
}

async function posterOf(content: Item[]): Promise<{ width: number; height: number; rgb: number[] }> {
  const images = content.filter((c) => c.type === 'image');
  expect(images).toHaveLength(1);
  const { data, info } = await sharp(Buffer.from(images[0]!.data!, 'base64')).raw().toBuffer({ resolveWithObject: true });
  const at = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return { width: info.width, height: info.height, rgb: [data[at]!, data[at + 1]!, data[at + 2]!] };
}

withFfmpeg('sd15-video: an H.264 MP4 on disk, listed as video with the frames\' size and frames/fps seconds, and a poster frame', async () => {
  const r = await h.call('generate_image', { workflow: 'sd15-video', prompt: 'a paper boat', seed: 7, steps: 2, width: 96, height: 64, params: { frames: 12, fps: 8 } });
  expect(r.isError ? textOf(r) : '').toBe('');
  const out = r.structuredContent as { prompt_id: string; files: FileRow[] };
  // SaveVideo's ui, as ComfyUI's PreviewVideo: under `images`, flagged animated, in video/ per the prefix.
  const outputs = await history(h, out.prompt_id);
  expect(outputs['10']).toEqual({ images: [{ filename: expect.stringMatching(/^sd15-video_\d{5}_\.mp4$/), subfolder: 'video/comfywire', type: 'output' }], animated: [true] });
  expect(out.files).toHaveLength(1);
  const file = out.files[0]!;
  expect(file).toMatchObject({ kind: 'video', mime: 'video/mp4', width: 96, height: 64, node_id: '10' });
  expect(Math.abs(file.duration_s! - 12 / 8)).toBeLessThanOrEqual(1 / 8);
  expect(existsSync(file.path)).toBe(true);
  expect(statSync(file.path).size).toBe(file.bytes);
  expect(readFileSync(file.path).toString('latin1', 4, 8)).toBe('ftyp');
  const poster = await posterOf(r.content as Item[]);
  expect([poster.width, poster.height]).toEqual([96, 64]);
  expect(textOf(r)).toMatch(/sd15-video_\d{5}_\.mp4: video, 1\.5\d s; the preview is its first frame/);
  expect((r.content as Item[]).some((c) => c.type === 'resource_link' && c.name === file.filename)).toBe(true);
});

/** One VHS_VideoCombine run with the current `vhs` settings: the result, its files and the node's `gifs` entries. */
async function combine() {
  const r = await vhsHost.call('generate_image', { workflow: 'vhs', prompt: 'x' });
  expect(r.isError ? textOf(r) : '').toBe('');
  const out = r.structuredContent as { prompt_id: string; files: FileRow[] };
  const gifs = (await history(vhsHost, out.prompt_id))['2']!.gifs as Locator[];
  return { r, out, gifs };
}

withFfmpeg('VHS_VideoCombine h264-mp4: a video under `gifs` with the fields VHS sends, listed as video with its poster', async () => {
  vhs = { format: 'video/h264-mp4', frames: 10, fps: 8 };
  const { r, out, gifs } = await combine();
  expect(gifs).toHaveLength(1);
  const entry = gifs[0]!;
  expect(entry).toEqual({
    filename: expect.stringMatching(/^vhs_\d{5}\.mp4$/), subfolder: 'clips', type: 'output', format: 'video/h264-mp4', frame_rate: 8,
    workflow: entry.filename.replace(/\.mp4$/, '.png'), fullpath: path.join(vhsHost.sim.dataDir, 'output', 'clips', entry.filename),
  });
  // The workflow image VHS writes next to the video: the first frame as PNG.
  expect((await sharp(path.join(vhsHost.sim.dataDir, 'output', 'clips', String(entry.workflow))).metadata()).width).toBe(80);
  expect(out.files).toHaveLength(1);
  expect(out.files[0]).toMatchObject({ kind: 'video', mime: 'video/mp4', width: 80, height: 48 });
  expect(Math.abs(out.files[0]!.duration_s! - 10 / 8)).toBeLessThanOrEqual(1 / 8);
  const poster = await posterOf(r.content as Item[]);
  expect([poster.width, poster.height]).toEqual([80, 48]);
  const want = [(COLOUR >> 16) & 0xff, (COLOUR >> 8) & 0xff, COLOUR & 0xff];
  expect(poster.rgb.reduce((sum, v, i) => sum + Math.abs(v - want[i]!), 0)).toBeLessThan(30);
});

test('VHS_VideoCombine image/gif: a GIF under `gifs`, listed as animated with its frames', async () => {
  vhs = { format: 'image/gif', frames: 4, fps: 10 };
  const { r, out, gifs } = await combine();
  expect(gifs[0]).toMatchObject({ filename: expect.stringMatching(/^vhs_\d{5}\.gif$/), subfolder: 'clips', type: 'output', format: 'image/gif', frame_rate: 10 });
  expect(out.files).toHaveLength(1);
  expect(out.files[0]).toMatchObject({ kind: 'animated', mime: 'image/gif', width: 80, height: 48, frames: 4, duration_s: 0.4 });
  expect((r.content as Item[]).filter((c) => c.type === 'image')).toHaveLength(1);
});

test('VHS_VideoCombine image/webp: an animated WebP under `gifs`, listed as animated with its frames and a contact sheet', async () => {
  vhs = { format: 'image/webp', frames: 3, fps: 6 };
  const { r, out, gifs } = await combine();
  expect(gifs[0]).toMatchObject({ filename: expect.stringMatching(/^vhs_\d{5}\.webp$/), subfolder: 'clips', type: 'output', format: 'image/webp', frame_rate: 6 });
  expect(out.files).toHaveLength(1);
  // VHS's delay per frame is round(1000 / 6) = 167 ms: 3 frames last 0.501 s.
  expect(out.files[0]).toMatchObject({ kind: 'animated', mime: 'image/webp', width: 80, height: 48, frames: 3, duration_s: 0.501 });
  const sheet = (r.content as Item[]).filter((c) => c.type === 'image');
  expect(sheet).toHaveLength(1);
  expect((await sharp(Buffer.from(sheet[0]!.data!, 'base64')).metadata()).width).toBe(3 * 80);
});

test('VHS_VideoCombine save_output false: the file goes to temp/ and is still downloaded and listed, from type=temp', async () => {
  vhs = { format: 'image/gif', frames: 2, fps: 4, saveOutput: false };
  try {
    const { out, gifs } = await combine();
    expect(gifs[0]).toMatchObject({ subfolder: 'clips', type: 'temp', format: 'image/gif' });
    const inTemp = path.join(vhsHost.sim.dataDir, 'temp', 'clips', gifs[0]!.filename);
    expect(existsSync(inTemp)).toBe(true);
    expect(existsSync(path.join(vhsHost.sim.dataDir, 'output', 'clips', gifs[0]!.filename))).toBe(false);
    expect(out.files).toHaveLength(1);
    expect(out.files[0]).toMatchObject({ filename: gifs[0]!.filename, kind: 'animated', mime: 'image/gif', frames: 2, duration_s: 0.5 });
    expect(readFileSync(out.files[0]!.path).equals(readFileSync(inTemp))).toBe(true);
  } finally {
    vhs = { format: 'video/h264-mp4', frames: 10, fps: 8 };
  }
});

withFfmpeg.each(['vp9', 'av1'])('SaveWEBM %s: a WebM under `images` flagged animated, listed as video with its duration and poster', async (codec) => {
  webm = { codec, frames: 8 };
  const r = await vhsHost.call('generate_image', { workflow: 'webm', prompt: 'x' });
  expect(r.isError ? textOf(r) : '').toBe('');
  const out = r.structuredContent as { prompt_id: string; files: FileRow[] };
  expect((await history(vhsHost, out.prompt_id))['2']).toEqual({
    images: [{ filename: expect.stringMatching(/^webm_\d{5}_\.webm$/), subfolder: 'clips', type: 'output' }], animated: [true],
  });
  expect(out.files[0]).toMatchObject({ kind: 'video', mime: 'video/webm', width: 80, height: 48 });
  expect(Math.abs(out.files[0]!.duration_s! - 1)).toBeLessThanOrEqual(1 / 8);
  expect(readFileSync(out.files[0]!.path).subarray(0, 4)).toEqual(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]));
  const poster = await posterOf(r.content as Item[]);
  expect([poster.width, poster.height]).toEqual([80, 48]);
});

test('SaveWEBM av1 with an ffmpeg that has no AV1 encoder: a node error that says to choose vp9 or another ffmpeg', async () => {
  // An "ffmpeg" that lists no encoders at all.
  const fake = path.join(vhsHost.outputDir, 'ffmpeg-without-av1');
  writeFileSync(fake, '#!/bin/sh\necho "Encoders:"\nexit 0\n');
  chmodSync(fake, 0o755);
  const noAv1 = await startHarness({ stepDelayMs: 0, deps: { prepare }, simulator: { ffmpeg: fake } });
  try {
    webm = { codec: 'av1', frames: 2 };
    const r = await noAv1.call('generate_image', { workflow: 'webm', prompt: 'x' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/this ffmpeg has no AV1 encoder \(libsvtav1 or libaom-av1\): choose the vp9 codec/);
    expect((await noAv1.call('get_queue')).isError).toBeFalsy();
  } finally {
    await noAv1.close();
  }
});

test('VHS_VideoCombine is listed only on a host with the pack; elsewhere it is refused as an unknown class', async () => {
  const bare = await (await fetch(`${h.sim.url}/object_info`)).json() as Record<string, unknown>;
  expect(bare).not.toHaveProperty('VHS_VideoCombine');
  expect(bare).toHaveProperty('SaveVideo');
  const withPack = await (await fetch(`${vhsHost.sim.url}/object_info`)).json() as Record<string, { output_node: boolean; input: { required: Record<string, unknown[]> } }>;
  expect(withPack.VHS_VideoCombine?.output_node).toBe(true);
  expect(withPack.VHS_VideoCombine?.input.required.format?.[0]).toEqual(['image/gif', 'image/webp', 'video/h264-mp4', 'video/webm']);
  const refused = await fetch(`${h.sim.url}/prompt`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: { '1': { class_type: 'VHS_VideoCombine', inputs: {} } } }),
  });
  expect(refused.status).toBe(400);
  await expect(startSimulator({ customNodes: ['NoSuchPack'] })).rejects.toThrow(/no custom node pack "NoSuchPack"/);
});

test('no ffmpeg on the ComfyUI side: SaveVideo fails as a node does, the caller is told to install ffmpeg, the server keeps serving', async () => {
  const noFfmpeg = await startHarness({ stepDelayMs: 0, simulator: { ffmpeg: 'off' } });
  try {
    const r = await noFfmpeg.call('generate_image', { workflow: 'sd15-video', prompt: 'a boat', seed: 1, steps: 1, width: 64, height: 64, params: { frames: 2 } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/SaveVideo/);
    expect(textOf(r)).toMatch(/ffmpeg is not available to encode video: install ffmpeg .*COMFYWIRE_FFMPEG.*@ffmpeg-installer\/ffmpeg/);
    const next = await noFfmpeg.call('generate_image', { workflow: 'sd15-txt2img', prompt: 'a boat', seed: 1, steps: 1, width: 64, height: 64 });
    expect(next.isError ? textOf(next) : '').toBe('');
  } finally {
    await noFfmpeg.close();
  }
});
