/**
 * The parameters a template exposes, and the `<name>.meta.json` sidecar that declares them.
 */
import { safeParse } from '../safe-parse.js';
import { z } from 'zod';
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import { WorkflowInvalidError } from '../errors.js';
import { comboChoices, findInputSpec, specOptions, specType } from './input-spec.js';

export { nearest } from './nearest.js';

export type ParameterType = 'string' | 'integer' | 'number' | 'boolean' | 'choice' | 'image';

export interface ParameterTarget { nodeId: string; input: string }

export interface ParameterSpec {
  name: string;
  type: ParameterType;
  description?: string;
  default?: unknown;
  min?: number;
  max?: number;
  /** Values must be a multiple of this (from min, or 0); informational for `number`. */
  step?: number;
  choices?: string[];
  targets: ParameterTarget[];
}

/** Largest seed JavaScript numbers carry exactly (protocol §6.9). */
export const MAX_SAFE_SEED = Number.MAX_SAFE_INTEGER;

const targetSchema = z.object({ node: z.union([z.string(), z.number()]).transform(String), input: z.string().min(1) }).strict();

const parameterSchema = z.object({
  type: z.enum(['string', 'integer', 'number', 'boolean', 'choice', 'image']).optional(),
  description: z.string().optional(),
  default: z.unknown().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().positive().optional(),
  choices: z.array(z.string()).min(1).optional(),
  node: z.union([z.string(), z.number()]).transform(String).optional(),
  input: z.string().min(1).optional(),
  targets: z.array(targetSchema).min(1).optional(),
}).strict()
  .refine((p) => (p.node !== undefined && p.input !== undefined) !== (p.targets !== undefined), {
    message: 'give either "node" + "input" or "targets": [{ "node", "input" }, ...]',
  })
  .refine((p) => p.min === undefined || p.max === undefined || p.min <= p.max, { message: '"min" is larger than "max"' });

export const templateMetaSchema = z.object({
  description: z.string().optional(),
  /** Absent: the parameters are detected from the graph, as without a sidecar (a description-only sidecar). */
  parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'parameter names are letters, digits and _'), parameterSchema).optional(),
}).strict();

export type TemplateMeta = z.infer<typeof templateMetaSchema>;

/**
 * Parameter names every JavaScript object already has ("__proto__", "constructor", "toString"...):
 * zod's record drops a "__proto__" entry without a word and refuses "constructor" as "not a
 * record", so they are named here instead.
 */
function inheritedNames(raw: unknown): string[] {
  const params = typeof raw === 'object' && raw !== null ? (raw as { parameters?: unknown }).parameters : undefined;
  if (typeof params !== 'object' || params === null) return [];
  return Object.keys(params).filter((name) => name in Object.prototype);
}

/** Validates a parsed sidecar, naming the file and the exact field on failure. */
export function parseTemplateMeta(raw: unknown, file: string): TemplateMeta {
  const inherited = inheritedNames(raw);
  const result = inherited.length === 0 ? safeParse(templateMetaSchema, raw) : undefined;
  if (result?.success) return result.data;
  const problems = result
    ? result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    : inherited.map((name) => `parameters.${name}: every JavaScript object has a "${name}", so it cannot name a parameter; choose another name`);
  throw new WorkflowInvalidError(`${file} is not a valid template sidecar: ${problems.join('; ')}.`, {
    hint: 'A sidecar is {"description": "...", "parameters": {"<name>": {"node": "<id>", "input": "<input>", "type": "integer", "default": ..., "min": ..., "max": ...}}}.',
    context: { file, problems },
  });
}

/** The parameter type an object_info input spec implies, if it is a widget type. */
export function typeFromSpec(classType: string, input: string, objectInfo: ObjectInfo | undefined): ParameterType | undefined {
  const spec = findInputSpec(objectInfo?.[classType], input);
  const type = specType(spec);
  if (type === 'COMBO') return specOptions(spec).image_upload === true ? 'image' : 'choice';
  return ({ INT: 'integer', FLOAT: 'number', STRING: 'string', BOOLEAN: 'boolean' } as const)[type as 'INT'];
}

function typeFromValue(value: unknown): ParameterType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return 'string';
}

/**
 * Completes a spec from the template's current value and, when given, object_info: missing
 * type, min/max (narrowed, never widened), choices, and the default (the template's own value).
 */
export function completeSpec(partial: Omit<ParameterSpec, 'type'> & { type?: ParameterType }, prompt: ApiPrompt,
  objectInfo: ObjectInfo | undefined): ParameterSpec {
  const first = partial.targets[0]!;
  const node = prompt[first.nodeId];
  const current = node?.inputs[first.input];
  const classType = node?.class_type ?? '';
  const spec = findInputSpec(objectInfo?.[classType], first.input);
  const options = specOptions(spec);
  const type = partial.type ?? typeFromSpec(classType, first.input, objectInfo) ?? typeFromValue(current);
  const result: ParameterSpec = { ...partial, type };
  if (type === 'integer' || type === 'number') {
    if (typeof options.min === 'number') result.min = Math.max(result.min ?? -Infinity, options.min);
    if (typeof options.max === 'number') result.max = Math.min(result.max ?? Infinity, options.max);
    if (result.step === undefined && type === 'integer' && typeof options.step === 'number' && options.step > 1) result.step = options.step;
  }
  if (type === 'choice' && !result.choices) {
    const choices = comboChoices(spec);
    if (choices && choices.length > 0) result.choices = choices.map(String);
  }
  if (result.default === undefined && current !== undefined && !Array.isArray(current)) result.default = current;
  return stripUndefined(result);
}

/** The seed parameter: no default (so one is drawn), range kept within exact JS integers. */
export function asRandomSeed(spec: ParameterSpec): ParameterSpec {
  delete spec.default;
  spec.min = Math.max(spec.min ?? 0, 0);
  spec.max = Math.min(spec.max ?? MAX_SAFE_SEED, MAX_SAFE_SEED);
  return spec;
}

function stripUndefined(spec: ParameterSpec): ParameterSpec {
  for (const key of Object.keys(spec) as Array<keyof ParameterSpec>) if (spec[key] === undefined) delete spec[key];
  return spec;
}

/** Sidecar parameters -> specs, checking every target exists in the prompt. */
export function specsFromMeta(meta: TemplateMeta, prompt: ApiPrompt, objectInfo: ObjectInfo | undefined, file: string): ParameterSpec[] {
  return Object.entries(meta.parameters ?? {}).map(([name, p]) => {
    const targets = (p.targets ?? [{ node: p.node!, input: p.input! }]).map((t) => ({ nodeId: t.node, input: t.input }));
    for (const target of targets) {
      const node = prompt[target.nodeId];
      if (!node) {
        throw new WorkflowInvalidError(`${file}: parameter "${name}" targets node ${target.nodeId}, which the workflow does not have.`, {
          hint: `Node ids in this workflow: ${Object.keys(prompt).join(', ')}.`,
        });
      }
      const known = target.input in node.inputs || findInputSpec(objectInfo?.[node.class_type], target.input) !== undefined;
      if (!known) {
        throw new WorkflowInvalidError(`${file}: parameter "${name}" targets input "${target.input}" of node ${target.nodeId} (${node.class_type}), which it does not have.`, {
          hint: `Inputs of node ${target.nodeId}: ${Object.keys(node.inputs).join(', ')}.`,
        });
      }
    }
    const { node: _node, input: _input, targets: _targets, ...rest } = p;
    const spec = completeSpec({ name, ...rest, targets }, prompt, objectInfo);
    // A seed without a declared default is drawn per run rather than frozen at the file's value.
    return name === 'seed' && p.default === undefined ? asRandomSeed(spec) : spec;
  });
}
