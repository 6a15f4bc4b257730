import { basename, extname } from 'node:path';
import { z } from 'zod';
import type { JobState } from '../../streams/job-state.js';
import { jobFolder, relativeOutputPath } from '../jobs/output-folder.js';
import { listJobFiles } from '../jobs/output-listing.js';
import { uriPart } from './resources/uri.js';

/**
 * A job's output files as the MCP layer reports them: where each one lies on disk, what kind of
 * file it is, and the resource URI the resources module serves it under.
 */

export type OutputKind = 'image' | 'video' | 'audio' | 'text' | 'other';

const MIME: Record<string, [OutputKind, string]> = {
  '.png': ['image', 'image/png'],
  '.jpg': ['image', 'image/jpeg'],
  '.jpeg': ['image', 'image/jpeg'],
  '.webp': ['image', 'image/webp'],
  '.gif': ['image', 'image/gif'],
  '.bmp': ['image', 'image/bmp'],
  '.tif': ['image', 'image/tiff'],
  '.tiff': ['image', 'image/tiff'],
  '.mp4': ['video', 'video/mp4'],
  '.webm': ['video', 'video/webm'],
  '.mov': ['video', 'video/quicktime'],
  '.mkv': ['video', 'video/x-matroska'],
  '.wav': ['audio', 'audio/wav'],
  '.mp3': ['audio', 'audio/mpeg'],
  '.flac': ['audio', 'audio/flac'],
  '.ogg': ['audio', 'audio/ogg'],
  '.opus': ['audio', 'audio/opus'],
  '.m4a': ['audio', 'audio/mp4'],
  '.txt': ['text', 'text/plain'],
  '.md': ['text', 'text/markdown'],
  '.json': ['text', 'application/json'],
  '.csv': ['text', 'text/csv'],
  '.glb': ['other', 'model/gltf-binary'],
  '.gltf': ['other', 'model/gltf+json'],
  '.obj': ['other', 'model/obj'],
  '.safetensors': ['other', 'application/octet-stream'],
};

export function classifyFile(filename: string): { kind: OutputKind; mime: string } {
  const known = MIME[extname(filename).toLowerCase()];
  return known ? { kind: known[0], mime: known[1] } : { kind: 'other', mime: 'application/octet-stream' };
}

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
  kind: z.enum(['image', 'video', 'audio', 'text', 'other']),
  mime: z.string(),
  bytes: z.number(),
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

/** Downloaded files, plus the outputs that ComfyUI produced but that are not on disk (and why). */
export function outputFiles(state: JobState): { files: OutputFileView[]; missing: Array<z.infer<typeof MissingFileSchema>> } {
  const files: OutputFileView[] = state.downloads.map((d) => {
    const name = basename(d.path);
    // The UI-output key says more than the extension for animations saved as .webp/.gif.
    const source = state.files.find((f) => f.nodeId === d.nodeId && f.filename === d.filename);
    const byExt = classifyFile(name);
    const kind = source && /gif|video|animat/i.test(source.kind) && byExt.kind === 'image' ? 'video' : byExt.kind;
    return {
      path: d.path,
      filename: name,
      comfy_filename: d.filename,
      node_id: d.nodeId,
      kind,
      mime: byExt.mime,
      bytes: d.bytes,
      uri: outputUri(state.promptId, relativeOutputPath(d)),
    };
  });
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
