/**
 * Writing a template (and its `.meta.json` sidecar) into the workflows folder. Each file is
 * written whole to a hidden temp file beside it and then moved into place, so a reader never
 * sees half a template. Without `overwrite` the template is put in place with link(2), which
 * fails if the name exists: two uploads of one name cannot both win, and an existing template
 * is never replaced. The template goes first; a refused save has touched nothing.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ApiPrompt } from '../comfy/types.js';
import { ConfigInvalidError, ParameterInvalidError, WorkflowExistsError } from '../errors.js';
import type { TemplateMeta } from './parameters.js';
import { templateNameProblem } from './template-name.js';
import { META_SUFFIX } from './template-store.js';

export interface SaveRequest {
  name: string;
  prompt: ApiPrompt;
  /** Written as `<name>.meta.json`; when absent, an existing sidecar of that name is removed. */
  meta?: TemplateMeta;
  overwrite: boolean;
}

export interface SavedTemplate {
  file: string;
  metaFile?: string;
  /** A template of that name was there before (overwrite). */
  replaced: boolean;
  /** A sidecar left from before was removed, since it described another workflow. */
  removedMeta?: string;
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function writeTemp(dir: string, base: string, text: string): Promise<string> {
  const temp = path.join(dir, `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}

/** Puts `text` at `target`; false (nothing changed) when `target` exists and replacing was not allowed. */
async function place(dir: string, target: string, text: string, replace: boolean): Promise<boolean> {
  const temp = await writeTemp(dir, path.basename(target), text);
  try {
    if (replace) {
      await rename(temp, target);
      return true;
    }
    await link(temp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' && !replace) return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

function unwritable(dir: string, error: unknown): ConfigInvalidError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new ConfigInvalidError(`The workflows folder ${dir} cannot be written (${code}); nothing was saved.`, {
    hint: 'Set COMFYWIRE_WORKFLOWS_DIR to a folder this process may write (a "workflows" folder in the working directory is used when there is one).',
    cause: error,
    context: { dir, code },
  });
}

export async function saveTemplate(dir: string, request: SaveRequest): Promise<SavedTemplate> {
  const problem = templateNameProblem(request.name);
  if (problem) throw new ParameterInvalidError(problem, { context: { field: 'name' } });
  let root: string;
  try {
    await mkdir(dir, { recursive: true });
    // Resolve the folder itself once: the files go inside what it really is.
    root = await realpath(dir);
  } catch (error) {
    throw unwritable(dir, error);
  }
  const file = path.join(root, `${request.name}.json`);
  const metaFile = path.join(root, `${request.name}${META_SUFFIX}`);
  const replaced = await exists(file);
  if (replaced && !request.overwrite) throw new WorkflowExistsError(request.name, file);

  const fsStep = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw unwritable(root, error);
      throw error;
    }
  };
  const placed = await fsStep(() => place(root, file, `${JSON.stringify(request.prompt, null, 2)}\n`, request.overwrite));
  // Lost a race with another upload of the same name since the check above.
  if (!placed) throw new WorkflowExistsError(request.name, file);

  const saved: SavedTemplate = { file, replaced };
  if (request.meta) {
    await fsStep(() => place(root, metaFile, `${JSON.stringify(request.meta, null, 2)}\n`, true));
    saved.metaFile = metaFile;
  } else if (await exists(metaFile)) {
    // A sidecar names node ids of the workflow it was written for; kept, it would mislabel this one.
    await fsStep(() => rm(metaFile, { force: true }));
    saved.removedMeta = metaFile;
  }
  return saved;
}
