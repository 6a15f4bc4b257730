import { open, stat } from 'node:fs/promises';
import { loadSharp } from '../lazy-sharp.js';
import { readApng } from './apng.js';
import { findFfmpeg, probeWithFfmpeg, type StreamFacts } from './ffmpeg.js';
import { kindFromListing, type OutputKind } from './kinds.js';
import { parseWavHeader, WAV_HEADER_BYTES } from './wav.js';
import { FLAC_HEADER_BYTES, parseFlacHeader } from './flac.js';

/**
 * What a downloaded output is: its kind, MIME type, size, and where it can be known cheaply its
 * picture size, frame count and duration. Images and animations through sharp's metadata (the
 * header only), WAV from its RIFF header, APNG from its chunk headers, other audio and video
 * through ffmpeg when there is one. Never throws: what cannot be read is left out.
 */

export interface MediaInfo {
  kind: OutputKind;
  mime: string;
  bytes: number;
  width?: number;
  height?: number;
  duration_s?: number;
  frames?: number;
}

export interface ProbeListing {
  /** The name the kind is read from (ComfyUI's, or the one on disk). */
  filename: string;
  /** The UI-output key ComfyUI listed the file under (`images`, `gifs`, `audio`, ...). */
  uiKey?: string | undefined;
  /** The node's UI output said `animated: [true]`. */
  animated?: boolean | undefined;
}

export interface ProbeOptions {
  /** An ffmpeg binary (ffmpeg.ts findFfmpeg), for the duration and size of video and of audio other than WAV and FLAC. */
  ffmpeg?: string | undefined;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * Only ffmpeg's answers are cached (a process per video per status call otherwise), by path, size
 * and modification time, and few: headers are read again each time (a millisecond), so nothing
 * is kept per job (test/integration/soak.test.ts counts live objects).
 */
const FFMPEG_CACHE_MAX = 32;
const ffmpegCache = new Map<string, StreamFacts>();

export async function probeMedia(path: string, listing: ProbeListing, options: ProbeOptions = {}): Promise<MediaInfo> {
  const base = kindFromListing(listing.filename, listing.uiKey, listing.animated === true);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return { ...base, bytes: 0 };
  return probeFile(path, info.size, info.mtimeMs, base, listing.animated === true, options).catch(() => ({ ...base, bytes: info.size }));
}

async function ffmpegFacts(bin: string, path: string, bytes: number, mtimeMs: number): Promise<StreamFacts> {
  const key = `${bin}\0${path}\0${bytes}\0${mtimeMs}`;
  const hit = ffmpegCache.get(key);
  if (hit) return hit;
  const facts = await probeWithFfmpeg(bin, path);
  if (ffmpegCache.size >= FFMPEG_CACHE_MAX) ffmpegCache.delete(ffmpegCache.keys().next().value!);
  ffmpegCache.set(key, facts);
  return facts;
}

const AUDIO_HEADERS: Readonly<Record<string, { bytes: number; duration: (head: Buffer, fileBytes: number) => number | undefined }>> = {
  'audio/wav': { bytes: WAV_HEADER_BYTES, duration: (head, fileBytes) => parseWavHeader(head, fileBytes)?.durationS },
  'audio/flac': { bytes: FLAC_HEADER_BYTES, duration: (head) => parseFlacHeader(head)?.durationS },
};

async function readHead(path: string, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  const head = Buffer.alloc(length);
  await fh.read(head, 0, length, 0).finally(() => fh.close());
  return head;
}

async function probeFile(
  path: string,
  bytes: number,
  mtimeMs: number,
  base: { kind: OutputKind; mime: string },
  animatedFlag: boolean,
  options: ProbeOptions,
): Promise<MediaInfo> {
  const out: MediaInfo = { ...base, bytes };
  if (base.kind === 'image' || base.kind === 'animated') {
    if (base.mime === 'image/png' || base.mime === 'image/apng') {
      const fh = await open(path, 'r');
      const apng = await readApng(fh, bytes).finally(() => fh.close());
      if (apng) {
        out.kind = 'animated';
        out.frames = apng.frames;
        out.duration_s = round3(apng.durationS);
      }
    }
    const sharp = await loadSharp();
    const meta = await sharp(path).metadata();
    if (meta.width !== undefined) out.width = meta.width;
    // For a multi-page image metadata's height is one page's (the whole strip only with animated: true).
    if (meta.height !== undefined) out.height = meta.pageHeight ?? meta.height;
    const pages = meta.pages ?? 1;
    if (pages > 1) {
      out.kind = 'animated';
      out.frames = pages;
      if (meta.delay?.length) out.duration_s = round3(meta.delay.reduce((a, b) => a + b, 0) / 1000);
    } else if (out.frames === undefined && !animatedFlag) out.kind = 'image';
    return out;
  }
  // WAV and FLAC say their duration in their first bytes: no decoder needed.
  const header = base.kind === 'audio' ? AUDIO_HEADERS[base.mime] : undefined;
  if (header) {
    const durationS = header.duration(await readHead(path, Math.min(header.bytes, bytes)), bytes);
    if (durationS !== undefined) {
      out.duration_s = round3(durationS);
      return out;
    }
  }
  if ((base.kind === 'audio' || base.kind === 'video') && options.ffmpeg) {
    const facts = await ffmpegFacts(options.ffmpeg, path, bytes, mtimeMs);
    if (facts.durationS !== undefined) out.duration_s = round3(facts.durationS);
    if (base.kind === 'video' && facts.width !== undefined && facts.height !== undefined) {
      out.width = facts.width;
      out.height = facts.height;
    }
  }
  return out;
}

/** The probe options of a configuration: its ffmpeg, if one is there (COMFYWIRE_FFMPEG or PATH). */
export async function mediaOptions(config: { ffmpeg?: string | undefined }): Promise<ProbeOptions> {
  return { ffmpeg: await findFfmpeg(config.ffmpeg) };
}
