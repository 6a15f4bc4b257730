import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isPlainName, jobFolder } from './output-folder.js';

/**
 * What the output folder holds, whichever comfywire process wrote it: job folders newest first and
 * the files below each. Walks never follow symlinks (a link may lead out of the folder) and are
 * bounded, so a folder with years of renders cannot stall a listing.
 */

/** ComfyUI subfolders are a level or two deep; deeper trees are not outputs. */
const MAX_DEPTH = 8;
export const MAX_FILES_PER_JOB = 1000;

export interface JobFolder {
  promptId: string;
  modifiedMs: number;
}

export interface OutputEntry {
  /** Below the job folder, `/`-separated. */
  rel: string;
  path: string;
  bytes: number;
}

async function entries(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** Job folders (real directories named like a prompt id), most recently changed first. */
export async function listJobFolders(outputDir: string): Promise<JobFolder[]> {
  const dirs = (await entries(outputDir)).filter((d) => d.isDirectory() && isPlainName(d.name));
  const folders = await Promise.all(
    dirs.map(async (d) => ({ promptId: d.name, modifiedMs: (await lstat(join(outputDir, d.name)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  return folders.sort((a, b) => b.modifiedMs - a.modifiedMs || a.promptId.localeCompare(b.promptId));
}

/** Regular files below a job's folder, sorted by relative path; at most `limit`. */
export async function listJobFiles(outputDir: string, promptId: string, limit = MAX_FILES_PER_JOB): Promise<OutputEntry[]> {
  if (!isPlainName(promptId)) return [];
  const out: OutputEntry[] = [];
  const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
    const list = (await entries(dir)).sort((a, b) => a.name.localeCompare(b.name));
    for (const d of list) {
      if (out.length >= limit) return;
      if (!isPlainName(d.name)) continue;
      const path = join(dir, d.name);
      const rel = prefix ? `${prefix}/${d.name}` : d.name;
      if (d.isDirectory() && depth < MAX_DEPTH) await walk(path, rel, depth + 1);
      else if (d.isFile()) {
        const info = await lstat(path).catch(() => undefined);
        if (info?.isFile()) out.push({ rel, path, bytes: info.size });
      }
    }
  };
  const root = jobFolder(outputDir, promptId);
  if ((await lstat(root).catch(() => undefined))?.isDirectory()) await walk(root, '', 0);
  return out;
}
