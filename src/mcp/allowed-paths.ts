import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, relative, resolve, sep } from 'node:path';
import { ParameterInvalidError, UnsafePathError } from '../errors.js';
import { IMAGE_SIGNATURE_BYTES, IMAGE_TYPES, imageTypeOf, type ImageType } from './image-signature.js';

/**
 * A model can name any path, and an upload copies the file to the ComfyUI server, whose input
 * folder anyone with access to ComfyUI can read. Local files are therefore read only from folders
 * the user meant to share: the working directory, the output folder and COMFYWIRE_UPLOAD_DIRS.
 * Symlinks are resolved first, so a link cannot lead outside. The file must also be visible (no
 * .env, nothing under .git), an image by its content, and within the size cap.
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

interface Located {
  /** The path as asked for, made absolute. */
  wanted: string;
  /** Its real path (symlinks resolved). */
  target: string;
  /** The real allowed folders that hold it. */
  roots: string[];
}

/** The file `path` names, if it is a regular file inside one of `roots`. */
async function locate(path: string, roots: readonly string[], cwd: string, what: string): Promise<Located> {
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
  const holding = realRoots.filter((root) => inside(root, target));
  if (holding.length === 0) {
    throw new UnsafePathError(`${wanted} is outside the folders comfywire may read.`, {
      hint:
        `Allowed folders: ${realRoots.join(', ')}. Copy the file into one of them, or add its folder to ` +
        `COMFYWIRE_UPLOAD_DIRS (separated by "${delimiter}") and restart the server.`,
      context: { path: wanted, allowed: realRoots },
    });
  }
  return { wanted, target, roots: holding };
}

export interface AllowedImage {
  /** Real path of the file. */
  path: string;
  /** Its content, as checked: send these bytes, not the file again (it could change meanwhile). */
  bytes: Buffer;
  type: ImageType;
}

const MB = 1024 * 1024;
const hidden = (name: string): boolean => name.startsWith('.') && name !== '.' && name !== '..';

/**
 * An image comfywire may send to ComfyUI: a regular file inside one of `roots` (else an error
 * that names them), not hidden nor under a
 * hidden folder below its allowed folder (a folder the user listed may itself be hidden), at most
 * `maxBytes` (measured before a byte is read), and an image by its content.
 */
export async function allowedImage(path: string, roots: readonly string[], cwd: string, maxBytes: number, what = 'image'): Promise<AllowedImage> {
  const { wanted, target, roots: holding } = await locate(path, roots, cwd, what);
  const visible = holding.some((root) => !relative(root, target).split(sep).some(hidden));
  if (!visible || wanted.split(sep).pop()!.startsWith('.')) {
    throw new UnsafePathError(`${wanted} is a hidden file or inside a hidden folder: comfywire does not send those to ComfyUI.`, {
      hint:
        "Hidden files (.env, anything under .git, …) often hold secrets, and ComfyUI's input folder is readable by anyone who can " +
        'reach ComfyUI. Give the path of an image in a visible folder, under a visible name.',
      context: { path: wanted },
    });
  }
  // The real path, not followed if it was swapped for a link since; the size from the open file.
  const file = await open(target, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const { size } = await file.stat();
    const tooLarge = (bytes: number) =>
      new ParameterInvalidError(
        `${wanted} is ${bytes} bytes, over the ${maxBytes} bytes (${Number((maxBytes / MB).toFixed(2))} MB) comfywire sends to ComfyUI.`,
        { hint: 'Downscale or compress the image, or raise COMFYWIRE_UPLOAD_MAX_MB and restart the server.', context: { path: wanted, bytes, maxBytes } },
      );
    if (size > maxBytes) throw tooLarge(size);
    // One byte more than allowed is asked for: a file that grew since the stat is caught too.
    const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0 || (length += bytesRead) === buffer.length) break;
    }
    if (length > maxBytes) throw tooLarge(length);
    const bytes = buffer.subarray(0, length);
    const type = imageTypeOf(bytes.subarray(0, IMAGE_SIGNATURE_BYTES));
    if (!type) {
      const types = `${IMAGE_TYPES.slice(0, -1).join(', ')} or ${IMAGE_TYPES.at(-1)}`;
      throw new ParameterInvalidError(`${wanted} is not an image: its content is not ${types} (the file name does not count).`, {
        hint: "comfywire sends only images to ComfyUI's input folder. Give the path of an image file.",
        context: { path: wanted },
      });
    }
    return { path: target, bytes, type };
  } finally {
    await file.close();
  }
}
