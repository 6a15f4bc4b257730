import { readFile } from 'node:fs/promises';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadSharp } from '../lazy-sharp.js';
import type { Logger } from '../logger.js';
import { NO_DECODER_NOTE, videoPoster } from '../media/ffmpeg.js';
import { INLINE_MAX_EDGE, inlineImage, MAX_INLINE_IMAGES, type InlineImage } from './inline-image.js';
import type { OutputFileView } from './outputs.js';

/**
 * What of a job's outputs a tool result carries inline, within one budget: images downscaled as
 * before; an animated image as a contact sheet of up to four of its frames; a video as its first
 * frame when there is an ffmpeg; audio as MCP audio content when small. Every file also has a
 * resource_link (the caller adds those); each preview that does not fit is named with its link.
 */

/** All the inline previews and audio of one result together, in bytes before base64. */
export const RESULT_INLINE_MAX_BYTES = 1_500_000;
/** One audio file sent as audio content; a larger one is linked. */
export const AUDIO_INLINE_MAX_BYTES = 1_000_000;
export const CONTACT_SHEET_FRAMES = 4;

type Content = CallToolResult['content'][number];

export interface Previews {
  content: Content[];
  lines: string[];
}

const VISUAL = new Set(['image', 'animated', 'video']);

/**
 * Up to CONTACT_SHEET_FRAMES frames spread over the animation, side by side, each scaled so the
 * sheet fits the inline edge; a PNG that inlineImage then encodes within the byte budget.
 */
export async function contactSheet(path: string, frames: number): Promise<Buffer> {
  const sharp = await loadSharp();
  const n = Math.max(1, Math.min(CONTACT_SHEET_FRAMES, frames));
  const picks = n === 1 ? [0] : Array.from({ length: n }, (_, i) => Math.round((i * (frames - 1)) / (n - 1)));
  const first = await sharp(path, { page: 0, pages: 1 }).metadata();
  const width = first.width ?? 1;
  const height = first.pageHeight ?? first.height ?? 1;
  const scale = Math.min(1, Math.floor(INLINE_MAX_EDGE / n) / width, INLINE_MAX_EDGE / height);
  const tileW = Math.max(1, Math.floor(width * scale));
  const tileH = Math.max(1, Math.floor(height * scale));
  const tiles = await Promise.all(
    picks.map((page) => sharp(path, { page, pages: 1 }).resize({ width: tileW, height: tileH, fit: 'fill' }).flatten({ background: '#ffffff' }).png().toBuffer()),
  );
  return sharp({ create: { width: tileW * n, height: tileH, channels: 3, background: '#ffffff' } })
    .composite(tiles.map((input, i) => ({ input, left: i * tileW, top: 0 })))
    .png()
    .toBuffer();
}

async function visualPreview(file: OutputFileView, ffmpeg: string | undefined): Promise<InlineImage | string> {
  if (file.kind === 'video') {
    if (!ffmpeg) return NO_DECODER_NOTE;
    const poster = await videoPoster(ffmpeg, file.path).catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
    if (typeof poster === 'string') return poster;
    if (!poster) return 'ffmpeg could not decode a frame of it';
    return (await inlineImage(poster)) ?? 'its first frame could not be encoded';
  }
  const source = file.kind === 'animated' && (file.frames ?? 1) > 1 ? await contactSheet(file.path, file.frames!) : file.path;
  return (await inlineImage(source)) ?? 'it could not be decoded as an image';
}

function seconds(s: number | undefined): string {
  return s === undefined ? '' : `, ${s.toFixed(s < 10 ? 2 : 1)} s`;
}

export async function outputPreviews(files: OutputFileView[], options: { ffmpeg?: string | undefined; logger: Logger }): Promise<Previews> {
  const lines: string[] = [];
  const content: Content[] = [];
  let spent = 0;
  const visual = files.filter((f) => VISUAL.has(f.kind));
  // The first few previews are made in parallel: this sits between the end of a run and the answer.
  const made = await Promise.all(
    visual.slice(0, MAX_INLINE_IMAGES).map((f) =>
      visualPreview(f, options.ffmpeg).catch((e: unknown) => {
        options.logger.warn(`could not make a preview of ${f.path}: ${String(e)}`);
        return 'its preview could not be made';
      }),
    ),
  );
  const previewOf = new Map(visual.slice(0, MAX_INLINE_IMAGES).map((f, i) => [f, made[i]!]));
  let shownImages = 0;
  for (const file of files) {
    if (VISUAL.has(file.kind)) {
      const preview = previewOf.get(file);
      if (preview === undefined) {
        lines.push(`No preview of ${file.filename} here (at most ${MAX_INLINE_IMAGES} per result): ${file.uri}`);
      } else if (typeof preview === 'string') {
        lines.push(`No preview of ${file.filename}: ${preview}. It is linked: ${file.uri}`);
      } else if (spent + preview.bytes > RESULT_INLINE_MAX_BYTES) {
        lines.push(`No preview of ${file.filename} here (the result's ${RESULT_INLINE_MAX_BYTES / 1e6} MB of inline content is spent): ${file.uri}`);
      } else {
        spent += preview.bytes;
        content.push({ type: 'image', data: preview.data, mimeType: preview.mimeType });
        if (file.kind === 'image') shownImages++;
        else if (file.kind === 'animated' && (file.frames ?? 1) > 1) {
          const n = Math.min(CONTACT_SHEET_FRAMES, file.frames!);
          lines.push(`${file.filename}: ${file.frames} frames${seconds(file.duration_s)}; the preview shows ${n} of them side by side (${preview.width}x${preview.height}).`);
        } else if (file.kind === 'video') lines.push(`${file.filename}: video${seconds(file.duration_s)}; the preview is its first frame.`);
      }
    } else if (file.kind === 'audio') {
      const fits = file.bytes <= AUDIO_INLINE_MAX_BYTES && spent + file.bytes <= RESULT_INLINE_MAX_BYTES;
      const data = fits ? await readFile(file.path).catch(() => undefined) : undefined;
      if (data) {
        spent += data.length;
        content.push({ type: 'audio', data: data.toString('base64'), mimeType: file.mime });
        lines.push(`${file.filename}: audio${seconds(file.duration_s)}, sent as audio content.`);
      } else {
        const why = file.bytes > AUDIO_INLINE_MAX_BYTES ? `over the ${AUDIO_INLINE_MAX_BYTES / 1e6} MB sent inline` : "the result's inline budget is spent";
        lines.push(`${file.filename}: audio${seconds(file.duration_s)}, not sent inline (${why}): ${file.uri}`);
      }
    }
  }
  const images = files.filter((f) => f.kind === 'image').length;
  if (images > shownImages) lines.push(`${shownImages} of ${images} images shown inline (downscaled); all are on disk at the paths above.`);
  return { content, lines };
}
