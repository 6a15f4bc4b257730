import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { silentLogger } from '../src/logger.js';
import { findFfmpeg, runFfmpeg } from '../src/media/ffmpeg.js';
import { probeMedia, type MediaInfo } from '../src/media/probe.js';
import { outputPreviews } from '../src/mcp/output-previews.js';
import type { OutputFileView } from '../src/mcp/outputs.js';
import { seededRandom } from './seeded-random.js';
import { percentile, type Figure } from './table.js';

/**
 * What a result's previews cost, per kind of output: the time from "the files are on disk" to
 * "the result's inline content is ready" (probe + preview), which sits between a job's end and
 * the caller's answer. One 512x512 file of each kind, made here: a PNG (the baseline), a 16-frame
 * animated WebP (contact sheet of 4 frames), a 2 s H.264 MP4 (ffmpeg's first frame: a process
 * spawn), a 10 s WAV (sent as audio content). Medians of `runs` after one warm-up; each run
 * touches the file first, so ffmpeg's probe cache (probe.ts) misses as it does for a new output.
 */

export interface OutputPreviewBenchOptions {
  runs: number;
}

const EDGE = 512;

/** Smooth gradients plus seeded grain: compresses like a render, not like flat colour or pure noise. */
function picture(seed: number): Buffer {
  const random = seededRandom(seed);
  const raw = Buffer.alloc(EDGE * EDGE * 3);
  for (let y = 0; y < EDGE; y++) {
    for (let x = 0; x < EDGE; x++) {
      const i = (y * EDGE + x) * 3;
      raw[i] = (x + seed * 16) & 255;
      raw[i + 1] = (y + seed * 8) & 255;
      raw[i + 2] = Math.min(255, ((x ^ y) & 127) + Math.floor(random() * 48));
    }
  }
  return raw;
}

function wav(seconds: number, rate = 16_000): Buffer {
  const data = Buffer.alloc(seconds * rate * 2);
  for (let i = 0; i < seconds * rate; i++) data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000), i * 2);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(1, 22);
  head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

export async function benchOutputPreviews(options: OutputPreviewBenchOptions = { runs: 15 }): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-bench-previews-'));
  try {
    const ffmpeg = await findFfmpeg(undefined);
    const files: Array<{ name: string; label: string; uiKey: string; animated: boolean }> = [];
    writeFileSync(join(dir, 'still.png'), await sharp(picture(1), { raw: { width: EDGE, height: EDGE, channels: 3 } }).png().toBuffer());
    files.push({ name: 'still.png', label: '512x512 PNG (inline JPEG)', uiKey: 'images', animated: false });
    const frames = Array.from({ length: 16 }, (_, i) => picture(i + 2));
    const strip = sharp(Buffer.concat(frames), { raw: { width: EDGE, height: EDGE * 16, channels: 3, pageHeight: EDGE } });
    writeFileSync(join(dir, 'anim.webp'), await strip.webp({ delay: frames.map(() => 125), loop: 0, quality: 80 }).toBuffer());
    files.push({ name: 'anim.webp', label: '16-frame 512x512 animated WebP (contact sheet)', uiKey: 'images', animated: true });
    if (ffmpeg) {
      const made = await runFfmpeg(ffmpeg, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=s=${EDGE}x${EDGE}:r=24:d=2`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', join(dir, 'clip.mp4')], 60_000);
      if (made.code === 0) files.push({ name: 'clip.mp4', label: '2 s 512x512 H.264 MP4 (ffmpeg first frame)', uiKey: 'gifs', animated: false });
    }
    writeFileSync(join(dir, 'tone.wav'), wav(10));
    files.push({ name: 'tone.wav', label: '10 s 16 kHz WAV (audio content)', uiKey: 'audio', animated: false });

    const figures: Figure[] = [];
    let baseline: number | undefined;
    for (const f of files) {
      const path = join(dir, f.name);
      let touches = 0;
      const once = async () => {
        const when = new Date(Date.UTC(2026, 0, 1) + ++touches * 1000);
        utimesSync(path, when, when);
        const t0 = performance.now();
        const info: MediaInfo = await probeMedia(path, { filename: f.name, uiKey: f.uiKey, animated: f.animated }, { ffmpeg });
        const view: OutputFileView = { path, filename: f.name, comfy_filename: f.name, node_id: '1', ...info, uri: `comfywire://outputs/p/${f.name}` };
        const out = await outputPreviews([view], { ffmpeg, logger: silentLogger() });
        if (!out.content.length) throw new Error(`no inline content for ${f.name}: ${out.lines.join(' ')}`);
        return performance.now() - t0;
      };
      await once();
      const samples: number[] = [];
      for (let i = 0; i < options.runs; i++) samples.push(await once());
      const p50 = percentile(samples, 50);
      baseline ??= p50;
      figures.push({
        name: `probe + preview: ${f.label}, p50`,
        value: p50,
        unit: 'ms',
        note: `p95 ${percentile(samples, 95).toFixed(1)} ms; ${(statSync(path).size / 1024).toFixed(0)} KiB${f.name === 'still.png' ? '' : `; ${(p50 / baseline).toFixed(1)}x the PNG`}`,
      });
    }
    if (!ffmpeg) figures.push({ name: 'probe + preview: MP4 (no ffmpeg here)', value: NaN, unit: 'ms', note: 'install the optional @ffmpeg-installer/ffmpeg' });
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
