import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Engine } from '../../src/engine.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { parseWavHeader } from '../../src/media/wav.js';
import { RESULT_INLINE_MAX_BYTES } from '../../src/mcp/output-previews.js';
import { MAX_INLINE_IMAGES } from '../../src/mcp/inline-image.js';
import { animatedImage, encodeWav, FRAME_COLOURS } from '../helpers/media.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * Outputs of every kind through the MCP client: a simulator node (HarnessFiles) lists real files
 * under the keys real nodes use; generate_image and get_workflow_status list them with their
 * kinds, sizes, dimensions and durations, and carry previews within the result's budget.
 */

let h: Harness;
let spec = '{}';

async function prepare(_engine: Engine, request: GenerateRequest) {
  return { templateName: request.workflow ?? 'files', prompt: { '1': { class_type: 'HarnessFiles', inputs: { spec } } }, values: {}, notes: [] };
}

type Item = { type: string; data?: string; mimeType?: string; uri?: string; name?: string };
type FileRow = { filename: string; path: string; kind: string; mime: string; bytes: number; width?: number; height?: number; duration_s?: number; frames?: number; uri: string };

beforeAll(async () => {
  // No decoder whatever this machine has on PATH: the video path is the no-ffmpeg one.
  h = await startHarness({ env: { COMFYWIRE_FFMPEG: 'off' }, deps: { prepare } });
  const input = path.join(h.sim.dataDir, 'input');
  writeFileSync(path.join(input, 'anim.webp'), await animatedImage('webp', 64, 48, [100, 150, 250]));
  writeFileSync(path.join(input, 'clip.gif'), await animatedImage('gif', 32, 20, [40, 40, 40, 40, 40]));
  writeFileSync(path.join(input, 'tone.wav'), encodeWav({ seconds: 1.25, sampleRate: 8000 }));
  writeFileSync(path.join(input, 'long.wav'), encodeWav({ seconds: 70, sampleRate: 8000 })); // 1.12 MB: over the audio budget
  writeFileSync(path.join(input, 'mid.wav'), encodeWav({ seconds: 55, sampleRate: 8000 })); // 0.88 MB: under it, but not with 4 previews
  writeFileSync(path.join(input, 'mesh.glb'), Buffer.concat([Buffer.from('glTF'), Buffer.alloc(60)]));
  writeFileSync(path.join(input, 'x.latent'), Buffer.alloc(123, 1));
  writeFileSync(path.join(input, 'clip.mp4'), Buffer.alloc(2048, 7));
  writeFileSync(path.join(input, 'blob.bin'), Buffer.alloc(5, 2));
  for (let i = 0; i < 6; i++) {
    // Noise: each preview near the per-image budget, so several of them exceed the result's.
    const raw = Buffer.from(Array.from({ length: 640 * 640 * 3 }, (_, j) => (j * 7919 + i * 104729) % 251));
    writeFileSync(path.join(input, `big${i}.png`), await sharp(raw, { raw: { width: 640, height: 640, channels: 3 } }).png().toBuffer());
  }
});
afterAll(async () => {
  await h.close();
});

afterEach(async () => {
  // The server keeps serving.
  expect((await h.call('get_queue')).isError).toBeFalsy();
});

async function generate(ui: Record<string, unknown[]>) {
  spec = JSON.stringify(ui);
  const r = await h.call('generate_image', { workflow: 'files', prompt: 'x' });
  expect(textOf(r)).not.toMatch(/^Error/);
  expect(r.isError).toBeFalsy();
  const out = r.structuredContent as { prompt_id: string; files: FileRow[] };
  return { r, out, content: r.content as Item[], text: textOf(r) };
}

test('every kind listed with its facts, on disk; animation as a contact sheet, audio as audio content, video linked with a note', async () => {
  const { out, content, text } = await generate({
    images: [{ from: 'anim.webp', name: 'ComfyUI_00001_.webp' }],
    animated: [true],
    gifs: [{ from: 'clip.gif' }, { from: 'clip.mp4', subfolder: 'video' }],
    audio: [{ from: 'tone.wav', subfolder: 'audio' }],
    '3d': [{ from: 'mesh.glb', subfolder: '3d' }],
    latents: [{ from: 'x.latent', subfolder: 'latents' }],
    something_new: [{ from: 'blob.bin' }],
  });
  const byName = Object.fromEntries(out.files.map((f) => [f.filename, f]));
  expect(Object.keys(byName).sort()).toEqual(['ComfyUI_00001_.webp', 'blob.bin', 'clip.gif', 'clip.mp4', 'mesh.glb', 'tone.wav', 'x.latent']);
  for (const f of out.files) {
    expect(existsSync(f.path)).toBe(true);
    expect(statSync(f.path).size).toBe(f.bytes);
  }
  expect(byName['ComfyUI_00001_.webp']).toMatchObject({ kind: 'animated', mime: 'image/webp', width: 64, height: 48, frames: 3, duration_s: 0.5 });
  expect(byName['clip.gif']).toMatchObject({ kind: 'animated', width: 32, height: 20, frames: 5, duration_s: 0.2 });
  expect(byName['clip.mp4']).toMatchObject({ kind: 'video', mime: 'video/mp4', bytes: 2048 });
  expect(byName['tone.wav']).toMatchObject({ kind: 'audio', mime: 'audio/wav', duration_s: 1.25, bytes: 44 + 20_000 });
  expect(byName['mesh.glb']).toMatchObject({ kind: '3d', mime: 'model/gltf-binary', bytes: 64 });
  expect(byName['x.latent']).toMatchObject({ kind: 'latent', bytes: 123 });
  expect(byName['blob.bin']).toMatchObject({ kind: 'other', bytes: 5 });
  expect(byName['tone.wav']!.path).toContain(`${path.sep}audio${path.sep}`);

  // The contact sheets: 3 frames of 64x48 side by side, 4 of the GIF's 5 (32x20 each); each tile the frame's colour.
  const images = content.filter((c) => c.type === 'image');
  expect(images).toHaveLength(2);
  const sheet = await sharp(Buffer.from(images[0]!.data!, 'base64')).raw().toBuffer({ resolveWithObject: true });
  expect([sheet.info.width, sheet.info.height]).toEqual([192, 48]);
  for (let tile = 0; tile < 3; tile++) {
    const at = (24 * 192 + tile * 64 + 32) * sheet.info.channels;
    const [r, g, b] = [sheet.data[at]!, sheet.data[at + 1]!, sheet.data[at + 2]!];
    const want = FRAME_COLOURS[tile]!;
    expect([Math.abs(r - want.r), Math.abs(g - want.g), Math.abs(b - want.b)].every((d) => d < 24)).toBe(true);
  }
  const gifSheet = await sharp(Buffer.from(images[1]!.data!, 'base64')).metadata();
  expect([gifSheet.width, gifSheet.height]).toEqual([128, 20]);

  // Audio content that decodes: a RIFF header with its duration.
  const audio = content.filter((c) => c.type === 'audio');
  expect(audio).toHaveLength(1);
  expect(audio[0]!.mimeType).toBe('audio/wav');
  expect(parseWavHeader(Buffer.from(audio[0]!.data!, 'base64'))?.durationS).toBe(1.25);

  expect(text).toMatch(/ComfyUI_00001_\.webp: 3 frames, 0\.50 s; the preview shows 3 of them side by side \(192x48\)/);
  expect(text).toMatch(/tone\.wav: audio, 1\.25 s, sent as audio content/);
  expect(text).toMatch(/No preview of clip\.mp4: no video decoder: install ffmpeg or set COMFYWIRE_FFMPEG for a poster frame/);
  expect(text).toMatch(/\(animated, 64x48, 3 frames, 0\.5 s, \d+ bytes, node 1\)/);
  // Every file linked.
  expect(content.filter((c) => c.type === 'resource_link').map((c) => c.name).sort()).toEqual(Object.keys(byName).sort());

  // get_workflow_status lists the same facts.
  const status = await h.call('get_workflow_status', { prompt_id: out.prompt_id });
  const job = (status.structuredContent as { job: { files: FileRow[] } }).job;
  expect(job.files.map(({ filename, kind, bytes, width, height, duration_s, frames }) => ({ filename, kind, bytes, width, height, duration_s, frames }))).toEqual(
    out.files.map(({ filename, kind, bytes, width, height, duration_s, frames }) => ({ filename, kind, bytes, width, height, duration_s, frames })),
  );
  expect(textOf(status)).toMatch(/tone\.wav \(audio, 1\.25 s, 20044 bytes, node 1\)/);
});

test('many outputs: the budget holds, previews dropped in order, each dropped one named with its link', async () => {
  const { out, content, text } = await generate({
    images: Array.from({ length: 6 }, (_, i) => ({ from: `big${i}.png` })),
    audio: [{ from: 'long.wav' }, { from: 'mid.wav' }, { from: 'tone.wav', name: 'tone2.wav' }],
  });
  expect(out.files).toHaveLength(9);
  const inline = content.filter((c) => c.type === 'image' || c.type === 'audio');
  const inlineBytes = inline.reduce((n, c) => n + Buffer.from(c.data!, 'base64').length, 0);
  expect(inlineBytes).toBeLessThanOrEqual(RESULT_INLINE_MAX_BYTES);
  const images = content.filter((c) => c.type === 'image');
  expect(images.length).toBeLessThanOrEqual(MAX_INLINE_IMAGES);
  // The first previews are the first files: the kept ones are a prefix, the rest named.
  for (let i = 0; i < 6; i++) {
    const name = `big${i}.png`;
    const uri = out.files.find((f) => f.filename === name)!.uri;
    if (i >= images.length) expect(text).toContain(`No preview of ${name} here`), expect(text).toContain(uri);
  }
  expect(text).toMatch(new RegExp(`${images.length} of 6 images shown inline`));
  // Over the audio budget: linked with its duration, not sent.
  expect(text).toMatch(/long\.wav: audio, 70\.0 s, not sent inline \(over the 1 MB sent inline\): comfywire:\/\/outputs\//);
  // Under the audio budget but over what the previews left of the result's: linked; a small one still fits.
  expect(images).toHaveLength(MAX_INLINE_IMAGES);
  expect(text).toMatch(/mid\.wav: audio, 55\.0 s, not sent inline \(the result's inline budget is spent\): comfywire:\/\/outputs\//);
  expect(text).toMatch(/tone2\.wav: audio, 1\.25 s, sent as audio content/);
  expect(content.filter((c) => c.type === 'audio')).toHaveLength(1);
  // Everything is still linked.
  expect(content.filter((c) => c.type === 'resource_link')).toHaveLength(9);
});
