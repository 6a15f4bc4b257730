/** Checks of the workflows folder: the templates load, the default one exists, their nodes are installed. */
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import type { Config } from '../config.js';
import { ComfywireError } from '../errors.js';
import { listTemplateNames, loadTemplate } from '../workflows/index.js';
import { errorText, fail, ok, warn, type DoctorCheck } from './types.js';

export interface TemplateScan {
  names: string[];
  prompts: Map<string, ApiPrompt>;
  problems: Array<{ name: string; message: string; hint?: string }>;
}

/** Loads every template once; UI-format ones convert only when the server's /object_info is at hand. */
export async function scanTemplates(dir: string, objectInfo: ObjectInfo | undefined): Promise<TemplateScan> {
  const scan: TemplateScan = { names: [], prompts: new Map(), problems: [] };
  try {
    scan.names = await listTemplateNames(dir);
  } catch (error) {
    scan.problems.push({ name: dir, message: errorText(error) });
    return scan;
  }
  for (const name of scan.names) {
    try {
      scan.prompts.set(name, (await loadTemplate(dir, name, objectInfo ? { objectInfo } : {})).prompt);
    } catch (error) {
      const hint = error instanceof ComfywireError ? error.hint : undefined;
      scan.problems.push({ name, message: errorText(error), ...(hint ? { hint } : {}) });
    }
  }
  return scan;
}

export function checkTemplates(dir: string, scan: TemplateScan): DoctorCheck {
  if (scan.names.length === 0) {
    return fail('templates', `no templates in ${dir}${scan.problems[0] ? ` (${scan.problems[0].message})` : ''}`,
      'Save API-format (Workflow > Export (API)) or UI-format workflows as .json files there, or set COMFYWIRE_WORKFLOWS_DIR to the folder that has them.');
  }
  const loaded = [...scan.prompts.keys()];
  if (scan.problems.length === 0) return ok('templates', `${loaded.length} in ${dir}: ${loaded.join(', ')}`);
  const detail = `${loaded.length} of ${scan.names.length} load from ${dir}; ` + scan.problems.map((p) => `${p.name}: ${p.message}`).join('; ');
  const fix = scan.problems.map((p) => p.hint).find((h) => h !== undefined) ?? 'Fix or remove the templates listed.';
  return loaded.length ? warn('templates', detail, fix) : fail('templates', detail, fix);
}

export function checkDefaultWorkflow(config: Readonly<Config>, scan: TemplateScan): DoctorCheck {
  const name = config.defaultWorkflow;
  if (scan.prompts.has(name)) return ok('default workflow', name);
  if (scan.names.includes(name)) {
    return fail('default workflow', `${name} exists but does not load`, 'See the templates line above; until it loads, pass a workflow explicitly.');
  }
  return fail('default workflow', `${name} is not in ${config.workflowsDir}`,
    scan.names.length ? `Set COMFYWIRE_DEFAULT_WORKFLOW to one of: ${scan.names.join(', ')}.` : 'Add a template named after COMFYWIRE_DEFAULT_WORKFLOW, or set it to one you have.');
}

/** Every class_type the templates use must be known to the server, or the prompt is rejected. */
export function checkNodeClasses(scan: TemplateScan, objectInfo: ObjectInfo): DoctorCheck {
  const missing = new Map<string, Set<string>>();
  let used = 0;
  const seen = new Set<string>();
  for (const [name, prompt] of scan.prompts) {
    for (const node of Object.values(prompt)) {
      if (!seen.has(node.class_type)) {
        seen.add(node.class_type);
        used++;
      }
      if (!(node.class_type in objectInfo)) missing.set(node.class_type, (missing.get(node.class_type) ?? new Set()).add(name));
    }
  }
  if (missing.size === 0) return ok('custom nodes', `all ${used} node classes the templates use are installed`);
  const list = [...missing].map(([cls, names]) => `${cls} (used by ${[...names].join(', ')})`).join('; ');
  return fail('custom nodes', `not installed on the server: ${list}`,
    'Install the custom node packs that provide them (ComfyUI-Manager: "Install Missing Custom Nodes", or git clone into ComfyUI/custom_nodes) and restart ComfyUI.');
}
