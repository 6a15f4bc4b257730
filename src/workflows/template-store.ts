/**
 * The workflows folder: every `*.json` below it is a template named by its relative path
 * without `.json` (`portraits/headshot`); `<name>.meta.json` beside it is its sidecar.
 */
import { readFile, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectInfo } from '../comfy/types.js';
import { ComfywireError, WorkflowInvalidError, WorkflowNotFoundError } from '../errors.js';
import { detectParameters } from './detect-parameters.js';
import { parseTemplateMeta, specsFromMeta } from './parameters.js';
import { parseJsonFile } from './parse-json.js';
import { detectFormat, toApiPrompt } from './template-format.js';
import type { TemplateListing, TemplateProblem, WorkflowTemplate } from './template-types.js';

export interface TemplateOptions { objectInfo?: ObjectInfo }

export const META_SUFFIX = '.meta.json';

/** Template names under `dir`, sorted; a missing folder has none. */
async function templateNames(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.json') && !e.name.endsWith(META_SUFFIX))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/').slice(0, -'.json'.length))
    .sort();
}

/** Resolves a name to its file, refusing anything that would leave the folder. */
function templateFile(dir: string, name: string): string | undefined {
  const clean = name.replace(/\.json$/, '');
  if (!clean || path.isAbsolute(clean) || clean.includes('\\') || clean.split('/').some((s) => s === '..' || s === '' || s === '.')) {
    return undefined;
  }
  const root = path.resolve(dir);
  const file = path.resolve(root, `${clean}.json`);
  return file.startsWith(root + path.sep) ? file : undefined;
}

async function readJson(file: string, display: string): Promise<unknown> {
  return parseJsonFile(await readFile(file, 'utf8'), display);
}

async function readMeta(file: string, display: string): Promise<unknown> {
  try {
    return await readJson(file, display);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function loadTemplate(dir: string, name: string, options: TemplateOptions = {}): Promise<WorkflowTemplate> {
  const file = templateFile(dir, name);
  const names = await templateNames(dir);
  const clean = name.replace(/\.json$/, '');
  if (!file || !names.includes(clean)) throw new WorkflowNotFoundError(name, names);

  // A symlink may point anywhere; only follow it if it stays inside the folder.
  const [root, real] = await Promise.all([realpath(dir), realpath(file)]);
  if (!real.startsWith(root + path.sep)) throw new WorkflowNotFoundError(name, names);

  const display = `workflows/${clean}.json`;
  const raw = await readJson(file, display);
  const format = detectFormat(raw, display);
  const prompt = toApiPrompt(raw, format, display, options.objectInfo);
  if (Object.keys(prompt).length === 0) {
    throw new WorkflowInvalidError(`${display} has no nodes to run.`, { hint: 'Save a workflow with at least one output node (e.g. SaveImage).' });
  }

  const metaDisplay = `workflows/${clean}${META_SUFFIX}`;
  const metaRaw = await readMeta(file.slice(0, -'.json'.length) + META_SUFFIX, metaDisplay);
  const meta = metaRaw === undefined ? undefined : parseTemplateMeta(metaRaw, metaDisplay);
  const parameters = meta?.parameters ? specsFromMeta(meta, prompt, options.objectInfo, metaDisplay) : detectParameters(prompt, options.objectInfo);
  const description = meta?.description ?? uiDescription(raw);
  return { name: clean, file, format, ...(description ? { description } : {}), prompt, parameters };
}

/** Newer editors keep a workflow description in `extra`; use it when there is no sidecar. */
function uiDescription(raw: unknown): string | undefined {
  const extra = (raw as { extra?: { description?: unknown } } | null)?.extra;
  return typeof extra?.description === 'string' ? extra.description : undefined;
}

/** Every template with its parameters; a broken file becomes a problem entry, not a failure. */
export async function listTemplates(dir: string, options: TemplateOptions = {}): Promise<TemplateListing> {
  const listing: TemplateListing = { templates: [], problems: [] };
  for (const name of await templateNames(dir)) {
    try {
      const { prompt: _prompt, ...summary } = await loadTemplate(dir, name, options);
      listing.templates.push(summary);
    } catch (error) {
      const problem: TemplateProblem = { name, file: path.join(path.resolve(dir), `${name}.json`), message: error instanceof Error ? error.message : String(error) };
      if (error instanceof ComfywireError && error.hint) problem.hint = error.hint;
      listing.problems.push(problem);
    }
  }
  return listing;
}

export async function listTemplateNames(dir: string): Promise<string[]> {
  return templateNames(dir);
}
