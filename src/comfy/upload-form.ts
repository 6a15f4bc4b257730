import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { FormData } from 'undici';
import { ParameterInvalidError } from '../errors.js';

/** The multipart body of POST /upload/image: fields `image`, `type`, `subfolder`, `overwrite`. */

export type UploadSource = { path: string } | { data: Uint8Array; filename: string };

export interface UploadOptions {
  subfolder?: string;
  type?: 'input' | 'temp' | 'output';
  /** false: ComfyUI reuses an identical file, or stores a different one as `name (1).ext`. */
  overwrite?: boolean;
  signal?: AbortSignal;
}

export async function uploadForm(source: UploadSource, opts: UploadOptions): Promise<FormData> {
  const form = new FormData();
  if ('path' in source) {
    let blob: Blob;
    try {
      blob = await openAsBlob(source.path); // read lazily while sending, not into memory first
    } catch (cause) {
      throw new ParameterInvalidError(`Cannot read the file to upload: ${source.path}`, {
        cause,
        hint: 'Give the path of an existing, readable image file.',
      });
    }
    form.append('image', blob, basename(source.path));
  } else {
    form.append('image', new Blob([source.data]), source.filename);
  }
  form.append('type', opts.type ?? 'input');
  if (opts.subfolder) form.append('subfolder', opts.subfolder);
  form.append('overwrite', opts.overwrite ? 'true' : 'false');
  return form;
}
