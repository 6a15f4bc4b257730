/**
 * Injecting parameter values into a copy of a template's prompt, after checking them the way
 * ComfyUI would (and a little stricter), so a bad value fails here with a useful message instead
 * of as a 400 from the server or an error mid-run.
 */
import { randomBytes } from 'node:crypto';
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import { ParameterInvalidError } from '../errors.js';
import { comboChoices, findInputSpec, specOptions, specType } from './input-spec.js';
import { nearest } from './nearest.js';
import type { ParameterSpec } from './parameters.js';
import { MAX_SAFE_SEED } from './parameters.js';
import { coerceValue } from './coerce.js';
import type { WorkflowTemplate } from './template-types.js';
import { excerpt, own } from '../input-policy/index.js';

export interface ApplyOptions {
  objectInfo?: ObjectInfo;
  /** Uniform in [0, 1); injectable so tests get known seeds. */
  random?: () => number;
}

export interface AppliedParameters {
  prompt: ApiPrompt;
  /** The value each parameter ends up with, defaults and the drawn seed included. */
  values: Record<string, unknown>;
}

/** 53 random bits scaled to [0, 1): every seed below 2^53 is reachable. */
function cryptoRandom(): number {
  const bytes = randomBytes(8);
  const high = bytes.readUInt32BE(0) >>> 11; // 21 bits
  const low = bytes.readUInt32BE(4); // 32 bits
  return (high * 2 ** 32 + low) / 2 ** 53;
}

type Template = Pick<WorkflowTemplate, 'name' | 'prompt' | 'parameters'>;

export function applyParameters(template: Template, values: Record<string, unknown>, options: ApplyOptions = {}): AppliedParameters {
  const specs = new Map(template.parameters.map((spec) => [spec.name, spec]));
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !specs.has(name)) throw unknownParameter(template, name);
  }

  const prompt = structuredClone(template.prompt);
  const effective: Record<string, unknown> = {};
  for (const spec of template.parameters) {
    const given = own(values, spec.name);
    let value: unknown;
    if (given !== undefined) {
      value = coerceValue(spec, given);
      checkValue(spec, value, prompt, options.objectInfo);
    } else if (spec.default !== undefined) {
      value = spec.default;
    } else if (spec.name === 'seed') {
      const min = Math.max(spec.min ?? 0, 0);
      const max = Math.min(spec.max ?? MAX_SAFE_SEED, MAX_SAFE_SEED);
      value = min + Math.floor((options.random ?? cryptoRandom)() * (max - min + 1));
    } else {
      // Nothing to inject: report what the template itself holds.
      const first = spec.targets[0];
      if (first) effective[spec.name] = prompt[first.nodeId]?.inputs[first.input];
      continue;
    }
    for (const target of spec.targets) {
      const node = prompt[target.nodeId];
      if (node) node.inputs[target.input] = value;
    }
    effective[spec.name] = value;
  }
  return { prompt, values: effective };
}

function unknownParameter(template: Template, name: string): ParameterInvalidError {
  const valid = template.parameters.map((p) => p.name);
  const close = nearest(name, valid);
  return new ParameterInvalidError(`Workflow "${template.name}" has no parameter "${name}".`, {
    hint: `${close.length ? `Did you mean ${close.map((c) => `"${c}"`).join(' or ')}? ` : ''}` +
      (valid.length ? `Its parameters are: ${valid.join(', ')}.` : 'It declares no parameters.'),
    context: { parameter: name, valid },
  });
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  return min !== undefined ? `at least ${min}` : `at most ${String(max)}`;
}

function checkRange(name: string, value: number, min: number | undefined, max: number | undefined, source: string): void {
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw new ParameterInvalidError(`${name} must be ${rangeText(min, max)}${source}; got ${value}.`, {
      hint: `Pass a value ${rangeText(min, max)}.`, context: { parameter: name, value, min, max },
    });
  }
}

function checkChoice(name: string, value: unknown, choices: unknown[], source: string): void {
  if (choices.includes(value)) return;
  const strings = choices.map(String);
  const close = nearest(String(value), strings);
  const listed = strings.length <= 30 ? `Allowed: ${strings.join(', ')}.` : `${strings.length} values are allowed.`;
  throw new ParameterInvalidError(`${name} ${excerpt(typeof value === 'string' ? value : String(value))} is not an allowed value${source}.`, {
    hint: strings.length === 0
      ? 'The server offers no values for this input (for a model, none is installed in its folder).'
      : `${close.length ? `Did you mean ${close.map((c) => `"${c}"`).join(' or ')}? ` : ''}${listed}`,
    context: { parameter: name, value, suggestions: close },
  });
}

/** Declared range/choices/step first, then what the server's object_info allows for each target. */
function checkValue(spec: ParameterSpec, value: unknown, prompt: ApiPrompt, objectInfo: ObjectInfo | undefined): void {
  if (typeof value === 'number') {
    checkRange(spec.name, value, spec.min, spec.max, '');
    if (spec.step !== undefined && spec.type === 'integer') {
      const base = spec.min ?? 0;
      const offset = (value - base) % spec.step;
      if (offset !== 0) {
        const lower = value - offset;
        throw new ParameterInvalidError(`${spec.name} must be a multiple of ${spec.step}; got ${value}.`, {
          hint: `Use ${lower} or ${lower + spec.step}.`, context: { parameter: spec.name, value, step: spec.step },
        });
      }
    }
  }
  if (spec.choices) checkChoice(spec.name, value, spec.choices, '');
  if (!objectInfo || spec.type === 'image') return; // LoadImage validates its own paths (protocol §2.1)
  for (const target of spec.targets) {
    const classType = prompt[target.nodeId]?.class_type;
    const inputSpec = classType ? findInputSpec(own(objectInfo, classType), target.input) : undefined;
    if (!inputSpec) continue;
    const where = ` for ${classType}.${target.input} on this ComfyUI`;
    const choices = comboChoices(inputSpec);
    if (choices) checkChoice(spec.name, value, choices, where);
    else if (typeof value === 'number' && (specType(inputSpec) === 'INT' || specType(inputSpec) === 'FLOAT')) {
      const { min, max } = specOptions(inputSpec);
      checkRange(spec.name, value, typeof min === 'number' ? min : undefined, typeof max === 'number' ? max : undefined, where);
    }
  }
}
