import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { safeTarget } from '../comfy/safe-path.js';
import { withDownloads, type DownloadedFile, type JobState, type OutputFile } from '../../streams/job-state.js';

/**
 * The output folder's layout, `<outputDir>/<prompt_id>/<ComfyUI subfolder>/<filename>`, as every
 * comfywire process writes it (src/comfy/download.ts via settle). Because the layout is fixed, a
 * process can find the files an earlier or another process downloaded, and serve any file under a
 * job's folder by its path relative to that folder, never anything outside it.
 */

/**
 * One path segment that names an output or a job folder: no separator (`/`, or `\` as Windows
 * ComfyUI subfolders use, which downloads turn into folders), no NUL, and no leading dot, which
 * rules out `.`, `..` and download temp files (`.comfywire-<uuid>.part`).
 */
export function isPlainName(name: string): boolean {
  return /^[^./\\\0][^/\\\0]*$/.test(name);
}

export function jobFolder(outputDir: string, promptId: string): string {
  return join(outputDir, promptId);
}

/** ComfyUI's subfolder as path segments, as safeTarget mirrors it (`/` or Windows `\`). */
function subfolderSegments(subfolder: string): string[] {
  return subfolder.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
}

/** A downloaded file's path below its job folder, `/`-separated: what output URIs carry. */
export function relativeOutputPath(file: Pick<DownloadedFile, 'subfolder' | 'path'>): string {
  return [...subfolderSegments(file.subfolder), basename(file.path)].join('/');
}

/** Where a download of `file` lands (before any `name (1)` renaming), or undefined for an unsafe reference. */
export function expectedPath(outputDir: string, promptId: string, file: Pick<OutputFile, 'filename' | 'subfolder'>): string | undefined {
  try {
    const { dir, name } = safeTarget(jobFolder(outputDir, promptId), file);
    return join(dir, name);
  } catch {
    return undefined;
  }
}

const keyOf = (f: { nodeId: string; filename: string; subfolder: string; type: string }): string =>
  [f.nodeId, f.filename, f.subfolder, f.type].join('\0');

/** The job's output files that have no download recorded. */
export function notDownloaded(state: JobState): OutputFile[] {
  const have = new Set(state.downloads.map(keyOf));
  return state.files.filter((f) => !have.has(keyOf(f)));
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export type ResolvedOutput = { path: string; bytes: number } | { missing: string };

/**
 * A regular file at `rel` (a `/`-separated path) below the job's folder. Every segment must be a
 * plain name, and the real path (symlinks resolved) must stay inside the real job folder, which
 * must itself be inside the real output folder: nothing a caller writes reaches other files.
 */
export async function resolveOutputFile(outputDir: string, promptId: string, rel: string): Promise<ResolvedOutput> {
  if (!isPlainName(promptId) || !rel.split('/').every(isPlainName)) return { missing: 'not a file in the output folder' };
  const root = await realpath(outputDir).catch(() => undefined);
  if (!root) return { missing: `the output folder ${outputDir} does not exist yet` };
  const jobRoot = await realpath(resolve(root, promptId)).catch(() => undefined);
  if (!jobRoot || !inside(root, jobRoot)) return { missing: `the output folder has no folder for job ${promptId}` };
  const real = await realpath(resolve(jobRoot, ...rel.split('/'))).catch(() => undefined);
  if (!real || !inside(jobRoot, real)) return { missing: 'no such output file' };
  const info = await stat(real).catch(() => undefined);
  if (!info?.isFile()) return { missing: 'not a file' };
  return { path: real, bytes: info.size };
}

/**
 * The job's outputs that are already in the output folder (downloaded by this process, an earlier
 * one or another one) recorded as downloads, with their paths and sizes.
 */
export async function withFilesOnDisk(state: JobState, outputDir: string): Promise<JobState> {
  const found: DownloadedFile[] = [];
  for (const file of notDownloaded(state)) {
    const path = expectedPath(outputDir, state.promptId, file);
    if (!path) continue;
    // lstat first: a symlink is not a download (and may lead anywhere); resolve confines the rest.
    if (!(await lstat(path).catch(() => undefined))?.isFile()) continue;
    const rel = relative(jobFolder(outputDir, state.promptId), path).split(/[\\/]/).join('/');
    const got = await resolveOutputFile(outputDir, state.promptId, rel);
    if ('missing' in got) continue;
    found.push({ nodeId: file.nodeId, filename: file.filename, subfolder: file.subfolder, type: file.type, path: resolve(path), bytes: got.bytes });
  }
  return found.length ? withDownloads(state, found) : state;
}
