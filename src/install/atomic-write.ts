/**
 * Replacing a config file so that a crash never leaves it half-written: write a sibling temp
 * file, flush it, keep a copy of the old file as `<file>.bak`, then rename over the original.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WriteResult {
  /** The path actually written (a symlinked config is written where the link points). */
  file: string;
  backup: string | undefined;
}

async function existingTarget(file: string): Promise<{ path: string; mode: number } | undefined> {
  try {
    const path = await realpath(file);
    return { path, mode: (await stat(path)).mode & 0o777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export interface WriteOptions {
  /** Mode of a file that does not exist yet (an existing one keeps its own). */
  createMode?: number;
  /** Keep the previous version as `<file>.bak` (default true). */
  backup?: boolean;
}

export async function writeFileAtomic(file: string, text: string, options: WriteOptions = {}): Promise<WriteResult> {
  const existing = await existingTarget(file);
  const target = existing?.path ?? file;
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // Keep the old file's permissions: ~/.claude.json, for one, is private to its owner.
  const handle = await open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, existing?.mode ?? options.createMode ?? 0o644);
  try {
    // open() applies the umask; an existing file keeps exactly the mode it had.
    if (existing) await handle.chmod(existing.mode);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    let backup: string | undefined;
    if (existing && options.backup !== false) {
      backup = `${target}.bak`;
      await copyFile(target, backup);
    }
    await rename(temp, target);
    return { file: target, backup };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
