import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { packagedFfmpeg, probeWithFfmpeg } from '../../src/media/ffmpeg.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * Every shipped template, generated through generate_image on the simulator: each runs with its
 * defaults (the simulator has the models they name) and writes real files of its kind, which
 * are checked by decoding them, not by their names.
 */

interface GenerateOut { prompt_id: string; status: string; files: Array<{ path: string }> }
type FileLocator = { filename: string; subfolder: string; type: string };
type NodeOutputs = Record<string, { images?: FileLocator[]; animated?: boolean[]; audio?: FileLocator[] }>;

const TEMPLATES = ['multi-output', 'sd15-animation', 'sd15-img2img', 'sd15-inpaint', 'sd15-lora', 'sd15-txt2img', 'sd15-video', 'sdxl-txt2img', 'upscale'];
const OPAQUE = { r: 10, g: 200, b: 30 };

let h: Harness;
/** 64x64, opaque green with a transparent 32x32 square in the middle: the inpaint mask. */
let inputImage: string;

beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 0 });
  // comfywire uploads only from the folders it may read: the harness's output folder is one.
  inputImage = path.join(h.outputDir, 'start.png');
  const hole = await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 1 } } }).png().toBuffer();
  await sharp({ create: { width: 64, height: 64, channels: 4, background: { ...OPAQUE, alpha: 1 } } })
    .composite([{ input: hole, left: 16, top: 16, blend: 'dest-out' }])
    .png()
    .toFile(inputImage);
});
afterAll(async () => h.close());

/** Sampling templates get a fixed seed and 2 steps; `upscale` samples nothing and takes neither. */
async function generate(args: Record<string, unknown>): Promise<{ out: GenerateOut; outputs: NodeOutputs }> {
  const r = await h.call('generate_image', args.workflow === 'upscale' ? args : { seed: 42, steps: 2, ...args });
  expect(r.isError ? textOf(r) : '').toBe('');
  const out = r.structuredContent as unknown as GenerateOut;
  expect(out.status).toBe('success');
  const history = (await (await fetch(`${h.sim.url}/history/${out.prompt_id}`)).json()) as Record<string, { outputs: NodeOutputs }>;
  return { out, outputs: history[out.prompt_id]!.outputs };
}

/** Where the simulator wrote a file an `executed` message names. */
function onServer(file: FileLocator): string {
  return path.join(h.sim.dataDir, file.type, file.subfolder, file.filename);
}

async function pngSize(file: string): Promise<{ width?: number; height?: number; format?: string }> {
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const { width, height, format } = await sharp(bytes).metadata();
  return { width, height, format };
}

test('list_workflows lists every shipped template with a description and no problems', async () => {
  const r = await h.call('list_workflows', {});
  const s = r.structuredContent as { workflows: Array<{ name: string; description?: string }>; problems?: unknown[] };
  expect(s.workflows.map((w) => w.name).sort()).toEqual(TEMPLATES);
  for (const w of s.workflows) expect(w.description).toBeTruthy();
  expect(s.problems ?? []).toEqual([]);
});

test('sd15-txt2img and sdxl-txt2img: PNGs at their default sizes (512 and 1024)', async () => {
  for (const [workflow, size] of [['sd15-txt2img', 512], ['sdxl-txt2img', 1024]] as const) {
    const { out } = await generate({ workflow, prompt: 'a lighthouse' });
    expect(out.files).toHaveLength(1);
    expect(await pngSize(out.files[0]!.path)).toEqual({ width: size, height: size, format: 'png' });
  }
});

test('sd15-lora: a PNG that differs from the same prompt and seed without the LoRA', async () => {
  const plain = await generate({ workflow: 'sd15-txt2img', prompt: 'a fox', width: 64, height: 64 });
  const lora = await generate({ workflow: 'sd15-lora', prompt: 'a fox', width: 64, height: 64 });
  expect(await pngSize(lora.out.files[0]!.path)).toMatchObject({ width: 64, height: 64 });
  expect(readFileSync(lora.out.files[0]!.path).equals(readFileSync(plain.out.files[0]!.path))).toBe(false);
  // Strength 0 on both is still the LoRA's graph: it runs and validates the float range.
  const off = await h.call('generate_image', { workflow: 'sd15-lora', prompt: 'a fox', params: { lora_strength: 0 }, steps: 1, width: 64, height: 64 });
  expect(off.isError).toBeFalsy();
  const refused = await h.call('generate_image', { workflow: 'sd15-lora', prompt: 'a fox', params: { lora: 'nope.safetensors' } });
  expect(refused.isError).toBe(true);
});

test('sd15-img2img and sd15-inpaint: the inpaint keeps the opaque part and repaints the transparent square', async () => {
  const img2img = await generate({ workflow: 'sd15-img2img', prompt: 'a boat', input_image: inputImage });
  expect(await pngSize(img2img.out.files[0]!.path)).toMatchObject({ width: 64, height: 64 });
  const { out } = await generate({ workflow: 'sd15-inpaint', prompt: 'a boat', input_image: inputImage });
  const { data, info } = await sharp(out.files[0]!.path).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height]).toEqual([64, 64]);
  const pixel = (x: number, y: number): number[] => [...data.subarray((y * 64 + x) * info.channels, (y * 64 + x) * info.channels + 3)];
  expect(pixel(2, 2)).toEqual([OPAQUE.r, OPAQUE.g, OPAQUE.b]);
  expect(pixel(32, 32)).not.toEqual([OPAQUE.r, OPAQUE.g, OPAQUE.b]);
});

test('upscale: the model named x4 makes a 64x64 input 256x256', async () => {
  const { out } = await generate({ workflow: 'upscale', input_image: inputImage });
  expect(await pngSize(out.files[0]!.path)).toEqual({ width: 256, height: 256, format: 'png' });
});

test('sd15-animation: one animated WebP, flagged animated, with one page per frame', async () => {
  const { out, outputs } = await generate({ workflow: 'sd15-animation', prompt: 'a paper boat', width: 64, height: 64, params: { frames: 6, fps: 10 } });
  expect(outputs['9']).toMatchObject({ animated: [true], images: [{ type: 'output', subfolder: 'comfywire' }] });
  const file = onServer(outputs['9']!.images![0]!);
  expect(file).toMatch(/sd15-animation_\d{5}_\.webp$/);
  const bytes = readFileSync(file);
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
  expect(bytes.toString('ascii', 8, 12)).toBe('WEBP');
  const meta = await sharp(bytes, { animated: true }).metadata();
  expect(meta).toMatchObject({ format: 'webp', pages: 6, width: 64, pageHeight: 64, delay: [100, 100, 100, 100, 100, 100], loop: 0 });
  expect(out.files.map((f) => path.basename(f.path))).toContain(path.basename(file));
});

// The packaged ffmpeg (an optional dependency) encodes the MP4; an install without it skips, and says so.
const withFfmpeg = packagedFfmpeg() ? test : test.skip;
if (!packagedFfmpeg()) process.stderr.write('templates-generate: @ffmpeg-installer/ffmpeg is not installed: sd15-video is skipped\n');

withFfmpeg('sd15-video: one H.264 MP4 under `images`, flagged animated, in video/, of frames / fps seconds', async () => {
  const { out, outputs } = await generate({ workflow: 'sd15-video', prompt: 'a paper boat', width: 64, height: 64, params: { frames: 6, fps: 12 } });
  expect(outputs['10']).toEqual({ images: [{ filename: expect.stringMatching(/^sd15-video_\d{5}_\.mp4$/), subfolder: 'video/comfywire', type: 'output' }], animated: [true] });
  const file = onServer(outputs['10']!.images![0]!);
  expect(readFileSync(file).toString('latin1', 4, 8)).toBe('ftyp');
  const facts = await probeWithFfmpeg(packagedFfmpeg()!, file);
  expect([facts.width, facts.height]).toEqual([64, 64]);
  expect(Math.abs(facts.durationS! - 0.5)).toBeLessThanOrEqual(1 / 12);
  expect(out.files.map((f) => path.basename(f.path))).toContain(path.basename(file));
});

test('multi-output: stills, an animated WebP and a FLAC sound from one run', async () => {
  const { out, outputs } = await generate({ workflow: 'multi-output', prompt: 'waves', width: 64, height: 64 });
  expect(Object.keys(outputs).sort()).toEqual(['10', '17', '9']);
  expect(outputs['9']!.images).toHaveLength(4);
  for (const f of outputs['9']!.images!) expect(await pngSize(onServer(f))).toMatchObject({ width: 64, height: 64 });
  expect(outputs['10']!.animated).toEqual([true]);
  expect((await sharp(onServer(outputs['10']!.images![0]!), { animated: true }).metadata()).pages).toBe(4);
  // SaveAudio's UI output: `audio`, FileLocators, a .flac.
  expect(outputs['17']).toEqual({ audio: [{ filename: expect.stringMatching(/^multi_\d{5}_\.flac$/), subfolder: 'comfywire', type: 'output' }] });
  const flac = readFileSync(onServer(outputs['17']!.audio![0]!));
  expect(flac.toString('ascii', 0, 4)).toBe('fLaC');
  // STREAMINFO: 44.1 kHz, 2 channels, 16 bits, 1 s rounded to whole latent frames of 2048 samples.
  const packed = flac.readBigUInt64BE(8 + 10);
  expect(Number(packed >> 44n)).toBe(44100);
  expect(Number((packed >> 41n) & 7n) + 1).toBe(2);
  expect(Number((packed >> 36n) & 31n) + 1).toBe(16);
  const samples = Number(packed & 0xfffffffffn);
  expect(samples).toBe(22 * 2048);
  expect(samples / 44100).toBeCloseTo(1.02, 2);
  for (const f of out.files) expect(readFileSync(f.path).length).toBeGreaterThan(0);
});
