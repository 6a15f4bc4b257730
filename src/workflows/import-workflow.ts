/**
 * A workflow someone hands over (API or UI format, an object or JSON text) turned into what a
 * template is kept as: an API prompt that passed checkPrompt against the server's /object_info,
 * plus the sidecar when a description or parameters came with it. Nothing here touches the disk.
 */
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import { WorkflowInvalidError } from '../errors.js';
import { checkPrompt, describeProblem, type PromptCheck } from './check-prompt.js';
import { parseTemplateMeta, specsFromMeta, type TemplateMeta } from './parameters.js';
import { parseJsonFile } from './parse-json.js';
import { detectFormat } from './template-format.js';
import type { TemplateFormat } from './template-types.js';
import { convertUiToApi } from './ui-to-api.js';

/** Problems listed in one error; the rest are counted (fix these first, the rest show next time). */
const MAX_LISTED_PROBLEMS = 25;

export interface WorkflowImport {
  /** The workflow as given. */
  display: string;
  workflow: unknown;
  description?: string;
  /** Sidecar parameters, as a `.meta.json` declares them. */
  parameters?: Record<string, unknown>;
}

export interface ImportedWorkflow {
  format: TemplateFormat;
  prompt: ApiPrompt;
  meta?: TemplateMeta;
  check: PromptCheck;
  /** What the UI conversion skipped (muted nodes' links, widgets it could not place...). */
  conversionWarnings: string[];
}

/** Newer editors keep a description in a UI workflow's `extra`. */
function uiDescription(raw: unknown): string | undefined {
  const extra = (raw as { extra?: { description?: unknown } } | null)?.extra;
  return typeof extra?.description === 'string' && extra.description.trim() ? extra.description : undefined;
}

export function importWorkflow(input: WorkflowImport, objectInfo: ObjectInfo): ImportedWorkflow {
  const raw = typeof input.workflow === 'string' ? parseJsonFile(input.workflow, input.display) : input.workflow;
  const format = detectFormat(raw, input.display);
  let prompt: ApiPrompt;
  let conversionWarnings: string[] = [];
  if (format === 'ui') {
    const converted = convertUiToApi(raw, objectInfo, input.display);
    prompt = converted.prompt;
    conversionWarnings = converted.warnings;
  } else {
    prompt = structuredClone(raw) as ApiPrompt;
  }

  const check = checkPrompt(prompt, objectInfo);
  if (check.problems.length > 0) {
    const n = check.problems.length;
    const listed = check.problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `- ${describeProblem(p)}`);
    if (n > MAX_LISTED_PROBLEMS) listed.push(`- … and ${n - MAX_LISTED_PROBLEMS} more; fix these first.`);
    throw new WorkflowInvalidError(
      `${input.display} would be refused by this ComfyUI server: ${n} problem${n === 1 ? '' : 's'}; nothing was saved.\n${listed.join('\n')}`,
      {
        hint:
          'Fix each one and upload again (node ids are the keys of an API-format workflow, the "id" of a UI node). ' +
          'list_models shows the model files the server has; node classes come from installed custom node packs.',
        context: { problems: check.problems },
      },
    );
  }

  const description = input.description ?? (format === 'ui' ? uiDescription(raw) : undefined);
  let meta: TemplateMeta | undefined;
  if (description !== undefined || input.parameters !== undefined) {
    const sidecar = `${input.display} sidecar`;
    meta = parseTemplateMeta(
      { ...(description !== undefined ? { description } : {}), ...(input.parameters !== undefined ? { parameters: input.parameters } : {}) },
      sidecar,
    );
    // Every target must be a node and input of this workflow: checked now, not at the first generation.
    specsFromMeta(meta, prompt, objectInfo, sidecar);
  }
  return { format, prompt, check, conversionWarnings, ...(meta ? { meta } : {}) };
}
