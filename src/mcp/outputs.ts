import { basename } from 'node:path';
import { z } from 'zod';
import type { JobState } from '../../streams/job-state.js';
import { jobFolder, relativeOutputPath } from '../jobs/output-folder.js';
import { listJobFiles } from '../jobs/output-listing.js';
import { probeJobOutputs } from '../media/job-outputs.js';
import { OUTPUT_KINDS } from '../media/kinds.js';
import type { ProbeOptions } from '../media/probe.js';
import { uriPart } from './resources/uri.js';

/**
 * A job's output files as the MCP layer reports them: where each one lies on disk, what kind of
 * file it is, and the resource URI the resources module serves it under.
 */

export { classifyFile, type OutputKind } from '../media/kinds.js';

/**
 * The resources module serves `comfywire://outputs/{prompt_id}/{file}` from the output folder;
 * `file` is the path below the job's folder (ComfyUI subfolder included), one encoded segment.
 */
export function outputUri(promptId: string, file: string): string {
  return `comfywire://outputs/${uriPart(promptId)}/${uriPart(file)}`;
}

export const OutputFileSchema = z.object({
  path: z.string().describe('Absolute path of the downloaded file on this machine'),
  filename: z.string().describe('File name on disk (may differ from ComfyUI\'s when a name was taken)'),
  comfy_filename: z.string().describe('File name as ComfyUI stored it'),
  node_id: z.string().describe('Id of the node that produced it'),
  kind: z.enum(OUTPUT_KINDS).describe('image, animated (an animated WebP/GIF/PNG), video, audio, 3d, latent, text or other'),
  mime: z.string(),
  bytes: z.number(),
  width: z.number().optional().describe('Pixels (images, animations, videos when ffmpeg is available)'),
  height: z.number().optional(),
  duration_s: z.number().optional().describe('Seconds (animations, WAV audio; other audio and video when ffmpeg is available)'),
  frames: z.number().optional().describe('Frames of an animated image'),
  uri: z.string().describe('Resource URI of the file (resources/read)'),
});
export type OutputFileView = z.infer<typeof OutputFileSchema>;

export const MissingFileSchema = z.object({
  filename: z.string(),
  node_id: z.string(),
  kind: z.string(),
  reason: z.string(),
  url: z.string().optional().describe("ComfyUI's /view URL of the file"),
});

/** Downloaded files (probed: kind, size, dimensions, duration), plus the outputs that ComfyUI produced but that are not on disk (and why). */
export async function outputFiles(
  state: JobState,
  media: ProbeOptions = {},
): Promise<{ files: OutputFileView[]; missing: Array<z.infer<typeof MissingFileSchema>> }> {
  const files: OutputFileView[] = (await probeJobOutputs(state, media)).map(({ download: d, info }) => ({
    path: d.path,
    filename: basename(d.path),
    comfy_filename: d.filename,
    node_id: d.nodeId,
    ...info,
    uri: outputUri(state.promptId, relativeOutputPath(d)),
  }));
  const got = new Set(state.downloads.map((d) => `${d.nodeId}\u0000${d.filename}\u0000${d.subfolder}`));
  const missing = state.files
    .filter((f) => !got.has(`${f.nodeId}\u0000${f.filename}\u0000${f.subfolder}`))
    .map((f) => ({
      filename: f.filename,
      node_id: f.nodeId,
      kind: f.kind,
      reason:
        state.downloadErrors.find((e) => e.startsWith(`${f.filename}:`))?.slice(f.filename.length + 1).trim() ??
        (f.type === 'temp' ? 'a preview (temp) file' : 'not downloaded'),
    }));
  return { files, missing };
}

/** Files named in "not found" answers at most; the folder path leads to the rest. */
const MAX_NOTED_FILES = 20;

/**
 * For a job neither this process nor ComfyUI knows any more: what an earlier process downloaded
 * for it, so the answer still says where its outputs are. Undefined when the folder holds nothing.
 */
export async function filesOnDiskNote(outputDir: string, promptId: string): Promise<string | undefined> {
  const files = await listJobFiles(outputDir, promptId, MAX_NOTED_FILES + 1);
  if (!files.length) return undefined;
  const lines = files.slice(0, MAX_NOTED_FILES).map((f) => `- ${f.path} (${outputUri(promptId, f.rel)})`);
  if (files.length > MAX_NOTED_FILES) lines.push('- …');
  return `Files downloaded for it earlier are in ${jobFolder(outputDir, promptId)}:\n${lines.join('\n')}`;
}
