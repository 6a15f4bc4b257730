import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep, win32 } from 'node:path';
import { UnsafePathError } from '../errors.js';

/**
 * Where a file ComfyUI names may be written locally. `filename` and `subfolder` come from the
 * server (or from whoever controls the workflow), so they are untrusted: nothing they say may put
 * a file outside the destination folder.
 */

/** ComfyUI runs on Windows too: its subfolders may use `\`. */
const SEPARATORS = /[\\/]/;

function segmentsOf(value: string, what: string): string[] {
  if (value.includes('\0')) throw new UnsafePathError(`The ${what} ${JSON.stringify(value)} contains a NUL byte.`);
  if (isAbsolute(value) || win32.isAbsolute(value) || /^[A-Za-z]:/.test(value)) {
    throw new UnsafePathError(`The ${what} ${JSON.stringify(value)} is an absolute path; refusing to write there.`, {
      hint: 'ComfyUI file references are relative to its output, input or temp folder.',
    });
  }
  const parts = value.split(SEPARATORS);
  if (parts.includes('..')) {
    throw new UnsafePathError(`The ${what} ${JSON.stringify(value)} climbs out of its folder with "..".`, {
      hint: 'ComfyUI never produces such names; the reference was altered or does not come from ComfyUI.',
    });
  }
  return parts.filter((p) => p !== '' && p !== '.');
}

export interface SafeTarget {
  /** Folder the file goes into: destDir plus the mirrored subfolder. */
  dir: string;
  /** ComfyUI's basename, unchanged. */
  name: string;
}

export function safeTarget(destDir: string, ref: { filename: string; subfolder?: string | undefined }): SafeTarget {
  const nameParts = segmentsOf(ref.filename, 'filename');
  const name = nameParts[nameParts.length - 1];
  if (name === undefined) throw new UnsafePathError(`The filename ${JSON.stringify(ref.filename)} names no file.`);
  const root = resolve(destDir);
  const dir = resolve(root, ...segmentsOf(ref.subfolder ?? '', 'subfolder'));
  assertInside(root, join(dir, name));
  return { dir, name };
}

function assertInside(root: string, target: string): void {
  const rel = relative(root, target);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new UnsafePathError(`Refusing to write ${target}: it is outside ${root}.`);
  }
}

/** After the folders exist: a symlink inside destDir must not lead the write somewhere else. */
export async function assertRealDirInside(destDir: string, dir: string): Promise<void> {
  const [realRoot, realDir] = await Promise.all([realpath(destDir), realpath(dir)]);
  if (realDir !== realRoot) assertInside(realRoot, realDir);
}
