/**
 * Checking an API prompt against a server's /object_info before it is kept as a template: what
 * ComfyUI's own validation would refuse at submission (src/simulator/validation*.ts mirrors it),
 * found all at once and said in words that name the node, its class, the input, what was
 * expected and what to do. Unlike ComfyUI, every node is checked, not only those that feed an
 * output: a template should not carry a broken node that happens to be unused today.
 */
import type { ApiPrompt, InputSpec, NodeInfo, ObjectInfo } from '../comfy/types.js';
import { comboChoices, specOptions, specType, typesCompatible } from './input-spec.js';
import { nearest } from './nearest.js';

export type ProblemKind =
  | 'unknown_class'
  | 'missing_input'
  | 'bad_link'
  | 'link_to_missing_node'
  | 'link_to_missing_output'
  | 'link_type_mismatch'
  | 'not_linked'
  | 'wrong_type'
  | 'below_min'
  | 'above_max'
  | 'not_a_choice'
  | 'unknown_input'
  | 'no_output_node';

/** One finding. `nodeId` and `classType` are absent only for the whole-workflow "no output node". */
export interface PromptProblem {
  kind: ProblemKind;
  nodeId?: string;
  classType?: string;
  input?: string;
  /** What was wrong, then what was expected. */
  problem: string;
  /** What to do about it. */
  fix: string;
}

export interface PromptCheck {
  /** Each one would make ComfyUI refuse the prompt (or fail it at run time). */
  problems: PromptProblem[];
  /** Worth knowing, not fatal: an input the class does not have, a file to be supplied at generation. */
  warnings: PromptProblem[];
  /** Ids of the nodes ComfyUI runs the workflow for (SaveImage, PreviewImage...). */
  outputNodes: string[];
}

/** Caller-supplied ids, class names and values are quoted at most this long. */
const QUOTE_CHARS = 60;
/** Suggestions named in one fix. */
const MAX_SUGGESTIONS = 3;
/** Longer values are not compared for a "did you mean" (edit distance is quadratic). */
const MAX_NEAREST_CHARS = 100;

function near(value: unknown, candidates: readonly string[]): string[] {
  return typeof value === 'string' && value.length <= MAX_NEAREST_CHARS ? nearest(value, candidates, MAX_SUGGESTIONS) : [];
}

function cut(text: string): string {
  return text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS - 1)}…` : text;
}

/** A value from the workflow as JSON, cut short: a message never carries a whole pasted input. */
export function quote(value: unknown): string {
  return cut(JSON.stringify(value) ?? String(value));
}

/** `node 3 (KSampler), input "steps"`: how every finding starts. */
export function describeProblem(p: PromptProblem): string {
  const where = p.nodeId === undefined ? 'workflow' : `node ${quote(p.nodeId)} (${cut(p.classType ?? '?')})`;
  const input = p.input === undefined ? '' : `, input ${quote(p.input)}`;
  return `${where}${input}: ${p.problem} ${p.fix}`;
}

function sortedIds(prompt: ApiPrompt): string[] {
  return Object.keys(prompt).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function isNumericText(value: string, whole: boolean): boolean {
  const n = Number(value.trim());
  return value.trim() !== '' && Number.isFinite(n) && (!whole || Number.isInteger(n));
}

/** A constant as ComfyUI would convert it for a widget type, or why it cannot be. */
function asWidgetValue(type: string, value: unknown): { ok: true; value: unknown } | { ok: false; expected: string } {
  switch (type) {
    case 'INT':
      if (typeof value === 'number' && Number.isInteger(value)) return { ok: true, value };
      if (typeof value === 'string' && isNumericText(value, true)) return { ok: true, value: Number(value) };
      return { ok: false, expected: 'a whole number (INT)' };
    case 'FLOAT':
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
      if (typeof value === 'string' && isNumericText(value, false)) return { ok: true, value: Number(value) };
      return { ok: false, expected: 'a number (FLOAT)' };
    case 'BOOLEAN':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false, expected: 'true or false (BOOLEAN)' };
    case 'STRING':
      return typeof value === 'string' || typeof value === 'number' ? { ok: true, value } : { ok: false, expected: 'text (STRING)' };
    default:
      return { ok: true, value };
  }
}

/** Outputs of the workflow's nodes that can feed `wanted`, as "node 4 output 0" phrases. */
function compatibleOutputs(prompt: ApiPrompt, objectInfo: ObjectInfo, wanted: string, except: string): string[] {
  const found: string[] = [];
  for (const id of sortedIds(prompt)) {
    if (id === except) continue;
    const outputs = objectInfo[prompt[id]!.class_type]?.output ?? [];
    outputs.forEach((type, slot) => {
      if (found.length < MAX_SUGGESTIONS && typesCompatible(type, wanted)) found.push(`node ${quote(id)} output ${slot} (${type})`);
    });
  }
  return found;
}

/** Where a combo's values come from files the caller supplies later, a miss is not fatal. */
function isFileChoice(input: string, spec: InputSpec): boolean {
  const options = specOptions(spec);
  return input === 'ckpt_name' || options.image_upload === true || options.video_upload === true || options.audio_upload === true;
}

/** Types whose value is typed in (a widget), as opposed to a socket fed by a link. */
const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

class Checker {
  readonly problems: PromptProblem[] = [];
  readonly warnings: PromptProblem[] = [];
  /**
   * Types some node outputs (MODEL, LATENT, IMAGE...): an input of such a type needs a link. A
   * custom widget type (a custom node's colour picker, say) is output by no node, and ComfyUI
   * passes a constant to it unchecked, so a constant there is not refused either.
   */
  private readonly socketTypes: ReadonlySet<string>;

  constructor(
    private readonly prompt: ApiPrompt,
    private readonly objectInfo: ObjectInfo,
  ) {
    this.socketTypes = new Set(Object.values(objectInfo).flatMap((info) => (Array.isArray(info.output) ? info.output : [])).filter((t) => typeof t === 'string'));
  }

  /** "INT" or "INT,FLOAT": every part typed in. */
  private isWidget(type: string): boolean {
    return type.split(',').every((t) => WIDGET_TYPES.has(t.trim()));
  }

  node(id: string): void {
    const node = this.prompt[id]!;
    const at = { nodeId: id, classType: node.class_type };
    const info = Object.hasOwn(this.objectInfo, node.class_type) ? this.objectInfo[node.class_type] : undefined;
    if (!info) {
      const close = near(node.class_type, Object.keys(this.objectInfo));
      this.problems.push({
        ...at,
        kind: 'unknown_class',
        problem: 'this ComfyUI server has no node class of that name.',
        fix:
          (close.length ? `Did you mean ${close.join(' or ')}? Otherwise install` : 'Install') +
          ' the custom node pack that provides it (e.g. with ComfyUI-Manager) and restart ComfyUI, or remove the node.',
      });
      return;
    }
    const required = info.input.required ?? {};
    const optional = info.input.optional ?? {};
    for (const [name, spec] of [...Object.entries(required), ...Object.entries(optional)]) {
      const given = Object.hasOwn(node.inputs, name) ? node.inputs[name] : undefined;
      if (given === undefined) {
        if (Object.hasOwn(required, name)) this.missing(at, name, spec);
        continue;
      }
      this.input(at, name, spec, given);
    }
    const hidden = info.input.hidden ?? {};
    for (const name of Object.keys(node.inputs)) {
      if (Object.hasOwn(required, name) || Object.hasOwn(optional, name) || Object.hasOwn(hidden, name)) continue;
      this.warnings.push({
        ...at,
        input: name,
        kind: 'unknown_input',
        problem: `${cut(node.class_type)} has no input of that name on this server; ComfyUI ignores it.`,
        fix: `Its inputs: ${[...Object.keys(required), ...Object.keys(optional)].join(', ') || 'none'}.`,
      });
    }
  }

  private missing(at: { nodeId: string; classType: string }, input: string, spec: InputSpec): void {
    const type = specType(spec) ?? '?';
    // A custom widget type (no node outputs it) is typed in too.
    const widget = this.isWidget(type) || !type.split(',').some((t) => this.socketTypes.has(t.trim()));
    const choices = comboChoices(spec);
    const example = choices?.length ? ` (one of ${choices.slice(0, MAX_SUGGESTIONS).map(quote).join(', ')}${choices.length > MAX_SUGGESTIONS ? ', …' : ''})` : '';
    const from = widget ? [] : compatibleOutputs(this.prompt, this.objectInfo, type, at.nodeId);
    this.problems.push({
      ...at,
      input,
      kind: 'missing_input',
      problem: `this required input (${type}) is missing.`,
      fix: widget
        ? `Give it a value${example}.`
        : `Link it to an output of type ${type}${from.length ? `, e.g. ${from.join(' or ')}` : ''}: [node_id, output_index].`,
    });
  }

  private input(at: { nodeId: string; classType: string }, input: string, spec: InputSpec, given: unknown): void {
    const type = specType(spec) ?? '?';
    if (Array.isArray(given)) {
      this.link(at, input, type, given);
      return;
    }
    // The UI conversion wraps list-valued constants so the server does not take them for links.
    const value = given !== null && typeof given === 'object' && '__value__' in given ? (given as { __value__: unknown }).__value__ : given;
    if (!this.isWidget(type) && type.split(',').some((t) => this.socketTypes.has(t.trim()))) {
      const from = compatibleOutputs(this.prompt, this.objectInfo, type, at.nodeId);
      this.problems.push({
        ...at,
        input,
        kind: 'not_linked',
        problem: `a ${type} input takes a link, not the value ${quote(value)}.`,
        fix: `Link it to an output of type ${type}${from.length ? `, e.g. ${from.join(' or ')}` : ''}: [node_id, output_index].`,
      });
      return;
    }
    if (type === 'COMBO') {
      this.choice(at, input, spec, value);
      return;
    }
    const converted = asWidgetValue(type, value);
    if (!converted.ok) {
      this.problems.push({ ...at, input, kind: 'wrong_type', problem: `got ${quote(value)}; expected ${converted.expected}.`, fix: 'Set it to a value of that type.' });
      return;
    }
    const options = specOptions(spec);
    const n = converted.value;
    if (typeof n !== 'number') return;
    if (typeof options.min === 'number' && n < options.min) {
      this.problems.push({ ...at, input, kind: 'below_min', problem: `${n} is below the minimum ${options.min}.`, fix: `Use a value from ${options.min}${typeof options.max === 'number' ? ` to ${options.max}` : ' up'}.` });
    } else if (typeof options.max === 'number' && n > options.max) {
      this.problems.push({ ...at, input, kind: 'above_max', problem: `${n} is above the maximum ${options.max}.`, fix: `Use a value from ${typeof options.min === 'number' ? options.min : '…'} to ${options.max}.` });
    }
  }

  private choice(at: { nodeId: string; classType: string }, input: string, spec: InputSpec, value: unknown): void {
    const choices = comboChoices(spec) ?? [];
    if (choices.includes(value)) return;
    const names = choices.map(String);
    const close = near(value, names);
    const listed = names.length === 0 ? 'the server offers none' : `the server offers ${names.slice(0, 12).map(quote).join(', ')}${names.length > 12 ? ` and ${names.length - 12} more` : ''}`;
    const finding: PromptProblem = {
      ...at,
      input,
      kind: 'not_a_choice',
      problem: `${quote(value)} is not one of its choices (${listed}).`,
      fix: close.length ? `Did you mean ${close.map(quote).join(' or ')}?` : 'Use one of the choices.',
    };
    if (isFileChoice(input, spec)) {
      // A file the server lacks today: generate_image takes input_image / checkpoint to fill it in.
      finding.fix = input === 'ckpt_name'
        ? 'Pass checkpoint to generate_image (list_models folder "checkpoints" shows the installed ones); without it an installed one is used.'
        : "Pass the file when generating (generate_image input_image uploads it into ComfyUI's input folder).";
      this.warnings.push(finding);
      return;
    }
    this.problems.push(finding);
  }

  private link(at: { nodeId: string; classType: string }, input: string, type: string, link: unknown[]): void {
    const [source, slot] = link;
    if (link.length !== 2 || typeof source !== 'string' || typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0) {
      this.problems.push({
        ...at,
        input,
        kind: 'bad_link',
        problem: `${quote(link)} is not a link.`,
        fix: 'A link is ["<node id>", <output index>], e.g. ["4", 0]; a list value must be wrapped as {"__value__": [...]}.',
      });
      return;
    }
    const node = Object.hasOwn(this.prompt, source) ? this.prompt[source] : undefined;
    if (!node) {
      const from = compatibleOutputs(this.prompt, this.objectInfo, type, at.nodeId);
      this.problems.push({
        ...at,
        input,
        kind: 'link_to_missing_node',
        problem: `it links to node ${quote(source)}, which the workflow does not have.`,
        fix: `Link it to an existing node's ${type} output${from.length ? `, e.g. ${from.join(' or ')}` : ''}, or add the missing node.`,
      });
      return;
    }
    const info: NodeInfo | undefined = Object.hasOwn(this.objectInfo, node.class_type) ? this.objectInfo[node.class_type] : undefined;
    if (!info) return; // the source is reported as an unknown class
    const outputs = info.output ?? [];
    const sourceName = `node ${quote(source)} (${cut(node.class_type)})`;
    if (slot >= outputs.length) {
      this.problems.push({
        ...at,
        input,
        kind: 'link_to_missing_output',
        problem: `it links to output ${slot} of ${sourceName}, which has ${outputs.length === 0 ? 'no outputs' : `outputs 0..${outputs.length - 1} (${outputs.join(', ')})`}.`,
        fix: 'Use the index of one of those outputs.',
      });
      return;
    }
    const offered = outputs[slot];
    // Combo inputs fed by a link (custom selector nodes) have no type name to compare.
    if (typeof offered === 'string' && type !== 'COMBO' && !typesCompatible(offered, type)) {
      const from = compatibleOutputs(this.prompt, this.objectInfo, type, at.nodeId);
      this.problems.push({
        ...at,
        input,
        kind: 'link_type_mismatch',
        problem: `it links to output ${slot} of ${sourceName}, a ${offered}, but the input takes ${type}.`,
        fix: from.length ? `Link it to a ${type} output instead, e.g. ${from.join(' or ')}.` : `Add a node that outputs ${type} and link it to that.`,
      });
    }
  }
}

export function checkPrompt(prompt: ApiPrompt, objectInfo: ObjectInfo): PromptCheck {
  const checker = new Checker(prompt, objectInfo);
  const outputNodes: string[] = [];
  for (const id of sortedIds(prompt)) {
    checker.node(id);
    const classType = prompt[id]!.class_type;
    if (Object.hasOwn(objectInfo, classType) && objectInfo[classType]!.output_node) outputNodes.push(id);
  }
  const { problems, warnings } = checker;
  const unknownClasses = problems.some((p) => p.kind === 'unknown_class');
  // An unknown class may well be the output node; saying "no output" then would mislead.
  if (outputNodes.length === 0 && !unknownClasses) {
    const savers = ['SaveImage', 'PreviewImage'].filter((c) => Object.hasOwn(objectInfo, c));
    problems.push({
      kind: 'no_output_node',
      problem: 'it has no output node, and ComfyUI runs nothing for a workflow without one.',
      fix: `Add one${savers.length ? ` (${savers.join(' or ')})` : ''} fed by the final result, e.g. a SaveImage whose images input links to the VAEDecode output.`,
    });
  }
  return { problems, warnings, outputNodes };
}
