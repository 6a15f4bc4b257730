import { realpath, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, relative, resolve } from 'node:path';
import { ParameterInvalidError, UnsafePathError } from '../errors.js';

/**
 * A model can name any path, and an upload copies the file to the ComfyUI server. Local files are
 * therefore read only from folders the user meant to share: the working directory, the output
 * folder and COMFYWIRE_UPLOAD_DIRS. Symlinks are resolved first, so a link cannot lead outside.
 */

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function real(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/** The real path of a readable file inside one of `roots`; throws an error that names the roots. */
export async function allowedFile(path: string, roots: readonly string[], cwd: string, what = 'file'): Promise<string> {
  const wanted = resolve(cwd, path);
  const info = await stat(wanted).catch(() => undefined);
  if (!info) {
    throw new ParameterInvalidError(`The ${what} ${wanted} does not exist.`, {
      hint: `Give the absolute path of an existing file${path !== wanted ? ' (relative paths are read from ' + cwd + ')' : ''}.`,
    });
  }
  if (!info.isFile()) {
    throw new ParameterInvalidError(`The ${what} ${wanted} is not a regular file.`, { hint: 'Give the path of an image file, not a folder.' });
  }
  const target = await real(wanted);
  const realRoots = await Promise.all(roots.map((r) => real(resolve(cwd, r))));
  if (!realRoots.some((root) => inside(root, target))) {
    throw new UnsafePathError(`${wanted} is outside the folders comfywire may read.`, {
      hint:
        `Allowed folders: ${realRoots.join(', ')}. Copy the file into one of them, or add its folder to ` +
        `COMFYWIRE_UPLOAD_DIRS (separated by "${delimiter}") and restart the server.`,
      context: { path: wanted, allowed: realRoots },
    });
  }
  return target;
}
