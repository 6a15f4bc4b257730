import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * What upload_image (and generate_image's input_image) may send to ComfyUI's input folder, where
 * anyone with access to ComfyUI can read it: images only, recognised by content; no hidden files
 * or files in hidden folders (.env, .git/…); at most COMFYWIRE_UPLOAD_MAX_MB, measured before
 * reading; from the allowed folders only, symlinks resolved. Each refusal says what to do, sends
 * nothing, and the next call works.
 */

// 0.01 MB: small enough to test both sides of the cap with tiny files.
const MAX_BYTES = Math.round(0.01 * 1024 * 1024);

let h: Harness;
let png: Buffer;
beforeAll(async () => {
  h = await startHarness({ env: { COMFYWIRE_UPLOAD_MAX_MB: '0.01' } });
  png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
});
afterAll(async () => h.close());

const inputDir = () => path.join(h.sim.dataDir, 'input', 'comfywire');
const uploaded = () => (existsSync(inputDir()) ? readdirSync(inputDir()).sort() : []);
const put = (rel: string, content: Buffer | string) => {
  const file = path.join(h.outputDir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
};

/** A refused upload: isError with this text, nothing new in ComfyUI's input folder, and a good upload right after works. */
async function refused(args: Record<string, unknown>, text: string | RegExp): Promise<void> {
  const before = uploaded();
  const r = await h.call('upload_image', args);
  expect(r.isError).toBe(true);
  if (typeof text === 'string') expect(textOf(r)).toBe(text);
  else expect(textOf(r)).toMatch(text);
  expect(uploaded()).toEqual(before);
  const next = await h.call('upload_image', { path: put('good.png', png), overwrite: true });
  expect(next.isError).toBeFalsy();
}

const HIDDEN_HINT =
  "Hidden files (.env, anything under .git, …) often hold secrets, and ComfyUI's input folder is readable by anyone who can " +
  'reach ComfyUI. Give the path of an image in a visible folder, under a visible name.';

describe('hidden files', () => {
  it('refuses .env, whatever it holds, naming why', async () => {
    const file = put('.env', 'OPENAI_API_KEY=sk-secret\n');
    await refused({ path: '.env' }, `${file} is a hidden file or inside a hidden folder: comfywire does not send those to ComfyUI.\n${HIDDEN_HINT}`);
  });

  it('refuses a real image inside a hidden folder', async () => {
    const file = put('.git/objects/pic.png', png);
    await refused({ path: file }, `${file} is a hidden file or inside a hidden folder: comfywire does not send those to ComfyUI.\n${HIDDEN_HINT}`);
  });

  it('refuses a visible symlink that leads to a hidden file', async () => {
    put('.secret.png', png);
    const link = path.join(h.outputDir, 'innocent.png');
    symlinkSync(path.join(h.outputDir, '.secret.png'), link);
    await refused({ path: 'innocent.png' }, /is a hidden file or inside a hidden folder/);
  });
});

describe('content, not name', () => {
  it('refuses a .png that is text', async () => {
    const file = put('notes.png', 'just some notes, not an image\n');
    await refused(
      { path: 'notes.png' },
      `${file} is not an image: its content is not PNG, JPEG, WebP, GIF, BMP or TIFF (the file name does not count).\n` +
        "comfywire sends only images to ComfyUI's input folder. Give the path of an image file.",
    );
  });

  it('sends an image whatever its name, as the bytes it checked', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0f0' } }).jpeg().toBuffer();
    put('photo.dat', jpeg);
    const r = await h.call('upload_image', { path: 'photo.dat' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ image: 'comfywire/photo.dat' });
    expect(uploaded()).toContain('photo.dat');
  });
});

describe('size cap', () => {
  it(`sends a file of exactly ${MAX_BYTES} bytes and refuses one byte more`, async () => {
    const at = Buffer.concat([png, Buffer.alloc(MAX_BYTES - png.length)]);
    expect((await h.call('upload_image', { path: put('at-cap.png', at) })).isError).toBeFalsy();
    const over = put('over-cap.png', Buffer.concat([at, Buffer.alloc(1)]));
    await refused(
      { path: over },
      `${over} is ${MAX_BYTES + 1} bytes, over the ${MAX_BYTES} bytes (0.01 MB) comfywire sends to ComfyUI.\n` +
        'Downscale or compress the image, or raise COMFYWIRE_UPLOAD_MAX_MB and restart the server.',
    );
  });

  it('measures before reading: a 64 GB sparse file is refused at once', async () => {
    const file = path.join(h.outputDir, 'huge.png');
    const fd = openSync(file, 'w');
    writeFileSync(fd, png);
    closeSync(fd);
    // Sparse: no disk used, but reading it would take minutes and all the memory there is.
    const { truncateSync } = await import('node:fs');
    truncateSync(file, 64 * 1024 ** 3);
    await refused({ path: file }, /huge\.png is 68719476736 bytes, over the 10486 bytes/);
    rmSync(file);
  });
});

describe('allowed folders', () => {
  it('still refuses a symlink that leads outside them', async () => {
    symlinkSync('/etc/hostname', path.join(h.outputDir, 'escape.png'));
    await refused({ path: 'escape.png' }, /outside the folders comfywire may read/);
  });
});

describe("generate_image's input_image", () => {
  it('follows the same rules: hidden and non-image files are refused before anything is queued', async () => {
    put('.env.png', png);
    put('text.png', 'not an image');
    for (const [image, text] of [
      ['.env.png', /is a hidden file or inside a hidden folder/],
      ['text.png', /is not an image: its content is not PNG/],
    ] as const) {
      const r = await h.call('generate_image', { prompt: 'x', workflow: 'sd15-img2img', input_image: image, wait: false });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(text);
    }
    expect(h.engine.inFlight()).toHaveLength(0);
    const ok = await h.call('generate_image', { prompt: 'x', workflow: 'sd15-img2img', input_image: put('start.png', png), steps: 1 });
    expect(ok.isError).toBeFalsy();
    expect(ok.structuredContent).toMatchObject({ status: 'success' });
  });
});
