/** Telling an API prompt from a UI workflow, and turning either into an API prompt. */
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import { WorkflowInvalidError } from '../errors.js';
import type { TemplateFormat } from './template-types.js';
import { isUiWorkflow } from './ui-types.js';
import { convertUiToApi } from './ui-to-api.js';

function isApiNode(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const node = value as Record<string, unknown>;
  return typeof node.class_type === 'string' && !!node.inputs && typeof node.inputs === 'object' && !Array.isArray(node.inputs);
}

export function detectFormat(value: unknown, file: string): TemplateFormat {
  if (isUiWorkflow(value)) return 'ui';
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    const bad = entries.find(([, node]) => !isApiNode(node));
    if (entries.length > 0 && !bad) return 'api';
    if (bad && entries.some(([, node]) => isApiNode(node))) {
      throw new WorkflowInvalidError(`${file}: node "${bad[0]}" has no "class_type" string or no "inputs" object.`, {
        hint: 'Every entry of an API-format prompt is {"class_type": "...", "inputs": {...}}. Re-export with "Export (API)".',
      });
    }
  }
  throw new WorkflowInvalidError(`${file} is neither an API-format prompt nor a UI workflow.`, {
    hint: 'An API prompt is an object of {"class_type", "inputs"} nodes keyed by id (ComfyUI: Workflow > Export (API)); ' +
      'a UI workflow has "nodes" and "links" arrays (ComfyUI: Workflow > Save). Save one of those into the workflows folder.',
    context: { file },
  });
}

/** The API prompt a template runs; UI templates need the server's /object_info to convert. */
export function toApiPrompt(value: unknown, format: TemplateFormat, file: string, objectInfo: ObjectInfo | undefined): ApiPrompt {
  if (format === 'api') return value as ApiPrompt;
  if (!objectInfo) {
    throw new WorkflowInvalidError(`${file} is a UI-format workflow; converting it needs the server's /object_info.`, {
      hint: 'Connect to ComfyUI (it provides /object_info), or export the workflow with "Export (API)" to use it offline.',
    });
  }
  return convertUiToApi(value, objectInfo, file).prompt;
}
