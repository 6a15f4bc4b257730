/**
 * Turning what a caller passed (often strings from a CLI or a model) into the JSON type the
 * parameter needs. ComfyUI converts with Python's int()/float()/bool(), where "false" is true,
 * so the conversion is done here, strictly.
 */
import { ParameterInvalidError } from '../errors.js';
import { excerpt } from '../input-policy/index.js';
import type { ParameterSpec } from './parameters.js';

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

function invalid(spec: ParameterSpec, value: unknown, expected: string): ParameterInvalidError {
  return new ParameterInvalidError(`${spec.name} must be ${expected}; got ${excerpt(value)}.`, {
    hint: spec.description ? `${spec.name}: ${spec.description}` : undefined,
    context: { parameter: spec.name, value, type: spec.type },
  });
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function coerceValue(spec: ParameterSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'integer': {
      const n = toNumber(value);
      if (n === undefined || !Number.isInteger(n)) throw invalid(spec, value, 'a whole number');
      if (!Number.isSafeInteger(n)) throw invalid(spec, value, `a whole number below 2^53 (${Number.MAX_SAFE_INTEGER})`);
      return n;
    }
    case 'number': {
      const n = toNumber(value);
      if (n === undefined) throw invalid(spec, value, 'a number');
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const word = String(value).trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw invalid(spec, value, 'true or false');
    }
    case 'image':
      if (typeof value !== 'string' || value.trim() === '') throw invalid(spec, value, "an image file name in ComfyUI's input folder");
      return value;
    case 'string':
    case 'choice':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw invalid(spec, value, spec.type === 'choice' ? 'one of the allowed values' : 'text');
  }
}
