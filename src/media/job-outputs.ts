import type { DownloadedFile, JobState } from '../../streams/job-state.js';
import { classifyFile } from './kinds.js';
import { probeMedia, type MediaInfo, type ProbeOptions } from './probe.js';

/**
 * What each of a job's downloaded files is (probe.ts), read with what ComfyUI said of it: the
 * UI-output key it was listed under and its node's `animated` flag say more than the extension.
 * One reading for the MCP tools and the CLI, so both name a file's kind the same way.
 */

/** A job with more files than this lists the rest by extension only: a status call stays quick. */
export const MAX_PROBED_FILES = 100;

export interface ProbedOutput {
  download: DownloadedFile;
  info: MediaInfo;
}

export async function probeJobOutputs(state: JobState, media: ProbeOptions = {}, maxProbed = MAX_PROBED_FILES): Promise<ProbedOutput[]> {
  return Promise.all(
    state.downloads.map(async (d, i) => {
      const source = state.files.find((f) => f.nodeId === d.nodeId && f.filename === d.filename);
      const listing = { filename: d.filename, uiKey: source?.kind, animated: animatedFlag(state, d.nodeId) };
      const info = i < maxProbed ? await probeMedia(d.path, listing, media) : { ...classifyFile(d.filename), bytes: d.bytes };
      return { download: d, info: { ...info, bytes: info.bytes || d.bytes } };
    }),
  );
}

/** SaveAnimatedWEBP / SaveAnimatedPNG / SaveVideo put `animated: [true]` next to their `images`. */
function animatedFlag(state: JobState, nodeId: string): boolean {
  const out = Object.prototype.hasOwnProperty.call(state.outputs, nodeId) ? state.outputs[nodeId] : undefined;
  const flag = out && Object.prototype.hasOwnProperty.call(out, 'animated') ? out['animated'] : undefined;
  return Array.isArray(flag) && flag.some((v) => v === true);
}

/** kind, picture size, frames, duration, bytes: what is known of a file, in that order. */
export function mediaFacts(f: Pick<MediaInfo, 'kind' | 'width' | 'height' | 'frames' | 'duration_s' | 'bytes'>): string[] {
  const facts: string[] = [f.kind];
  if (f.width !== undefined && f.height !== undefined) facts.push(`${f.width}x${f.height}`);
  if (f.frames !== undefined) facts.push(`${f.frames} frames`);
  if (f.duration_s !== undefined) facts.push(`${f.duration_s} s`);
  facts.push(`${f.bytes} bytes`);
  return facts;
}
