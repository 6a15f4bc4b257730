import type { NodeInputProblem } from '../errors.js';
import type { ObjectInfo } from '../comfy/types.js';
import type { JobError } from '../../streams/job-state.js';
import { closestNames, modelFolderOf, packFor } from './diagnose-data.js';
import { own } from '../input-policy/index.js';

/**
 * Turns a failed run into something an agent can act on: which node failed and how, plus concrete
 * hints (nearest model names, smaller sizes, the missing custom node pack). Every lookup here is
 * best effort: a diagnosis never fails because ComfyUI could not answer a follow-up question.
 */

export interface DiagnoseDeps {
  listModels(folder: string): Promise<string[]>;
  objectInfo?: () => Promise<ObjectInfo>;
}

export interface Diagnosis {
  /** One paragraph: node, class, title, exception. */
  summary: string;
  hints: string[];
  traceback: string[];
}

const TRACEBACK_LINES = 12;
const TRACEBACK_LINE_CHARS = 300;
const OOM = /out of memory|OutOfMemoryError|Allocation on device|can't allocate memory|not enough memory/i;
const SHAPE_MISMATCH = /shapes cannot be multiplied|size mismatch|Error\(s\) in loading state_dict|expected .* channels/i;
const MISSING_CLASS = /does not exist|not found in NODE_CLASS_MAPPINGS|No module named/i;

/** The last lines of a traceback: where it broke is at the end. */
export function trimTraceback(traceback: string[]): string[] {
  const lines = traceback.flatMap((t) => t.split('\n')).filter((l) => l.trim() !== '');
  return lines.slice(-TRACEBACK_LINES).map((l) => (l.length > TRACEBACK_LINE_CHARS ? `${l.slice(0, TRACEBACK_LINE_CHARS)}…` : l));
}

/** ComfyUI formats `current_inputs` as lists of values; a single value is what the node got. */
function inputValue(inputs: unknown, name: string): unknown {
  if (!inputs || typeof inputs !== 'object') return undefined;
  const v = own(inputs as Record<string, unknown>, name);
  return Array.isArray(v) && v.length === 1 ? v[0] : v;
}

function inputNames(inputs: unknown): string[] {
  return inputs && typeof inputs === 'object' ? Object.keys(inputs as object) : [];
}

async function safe<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch {
    return undefined;
  }
}

/** Model-file inputs whose value is not among the files ComfyUI has: name the nearest ones. */
async function missingModelHints(inputs: unknown, deps: DiagnoseDeps): Promise<string[]> {
  const hints: string[] = [];
  for (const name of inputNames(inputs)) {
    const folder = modelFolderOf(name);
    const value = inputValue(inputs, name);
    if (!folder || typeof value !== 'string') continue;
    const available = await safe(() => deps.listModels(folder));
    if (!available || available.includes(value)) continue;
    hints.push(missingModelHint(name, value, folder, available));
  }
  return hints;
}

export function missingModelHint(input: string, value: string, folder: string, available: string[]): string {
  if (available.length === 0)
    return `The model file "${value}" (input ${input}) does not exist and ComfyUI's ${folder} folder is empty: put the file into ComfyUI's models/${folder} folder, then retry.`;
  const near = closestNames(value, available);
  return `The model file "${value}" (input ${input}) is not in ComfyUI's ${folder} folder. Closest names: ${near.map((n) => `"${n}"`).join(', ')}. Use one of them (list_models folder="${folder}" lists all), or put the file into models/${folder}.`;
}

export function outOfMemoryHint(inputs: unknown): string {
  const w = inputValue(inputs, 'width');
  const h = inputValue(inputs, 'height');
  const b = inputValue(inputs, 'batch_size');
  const now = typeof w === 'number' && typeof h === 'number' ? ` (this run asked for ${w}×${h}${typeof b === 'number' ? `, batch ${b}` : ''})` : '';
  return `The GPU ran out of memory${now}. Retry with a smaller width/height (e.g. 512×512 for SD 1.5, 1024×1024 for SDXL) and batch_size 1, close other GPU programs, or start ComfyUI with --lowvram.`;
}

export function missingNodeHint(classType: string): string {
  const pack = packFor(classType);
  return pack
    ? `Node class "${classType}" is not installed on this ComfyUI: it comes from the custom node pack "${pack}". Install it (e.g. with ComfyUI-Manager) and restart ComfyUI, or use a workflow without it.`
    : `Node class "${classType}" is not installed on this ComfyUI (a custom node that is missing or failed to load; ComfyUI's console shows import errors at start). Install the pack that provides it and restart ComfyUI, or use a workflow without it.`;
}

export async function diagnoseJobError(error: JobError, deps: DiagnoseDeps): Promise<Diagnosis> {
  const where = `node ${error.nodeId} (${error.classType}${error.title && error.title !== error.classType ? `, "${error.title}"` : ''})`;
  const summary = `ComfyUI failed in ${where}: ${error.exceptionType}: ${error.exceptionMessage.trim()}`;
  const text = `${error.exceptionType} ${error.exceptionMessage}`;
  const hints: string[] = [];
  if (OOM.test(text)) hints.push(outOfMemoryHint(error.inputs));
  hints.push(...(await missingModelHints(error.inputs, deps)));
  if (MISSING_CLASS.test(text) || error.exceptionType === 'KeyError') {
    const info = deps.objectInfo ? await safe(deps.objectInfo) : undefined;
    if (info && !(error.classType in info)) hints.push(missingNodeHint(error.classType));
  }
  if (SHAPE_MISMATCH.test(text))
    hints.push('The models do not fit together (e.g. an SDXL LoRA or ControlNet with an SD 1.5 checkpoint): use files made for the same base model.');
  if (hints.length === 0)
    hints.push(`Check the inputs of node ${error.nodeId} below against what ${error.classType} expects, fix them in the template or parameters, and run again.`);
  return { summary, hints, traceback: trimTraceback(error.traceback) };
}

/** Rejections already carry a fix per input; add the nearest model names where ComfyUI left the list out. */
export async function diagnoseRejection(problems: NodeInputProblem[], deps: DiagnoseDeps): Promise<string[]> {
  const hints: string[] = [];
  for (const p of problems) {
    const folder = p.inputName ? modelFolderOf(p.inputName) : undefined;
    if (p.type === 'value_not_in_list' && folder && typeof p.receivedValue === 'string') {
      const available = await safe(() => deps.listModels(folder));
      if (available) hints.push(missingModelHint(p.inputName ?? folder, p.receivedValue, folder, available));
    } else if (p.type === 'invalid_prompt' && p.classType) {
      hints.push(missingNodeHint(p.classType));
    }
  }
  return hints;
}
