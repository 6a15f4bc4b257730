import { z } from 'zod';
import { excerpt } from './excerpt.js';
import { checkIdentifier, PARAMETER_NAME, type IdentifierRule } from './identifiers.js';
import { nullRecord } from './own.js';
import { checkText, type Checked, type TextRule } from './text.js';

/**
 * The policy as zod fields, for the schemas at the edges (tool arguments, prompt arguments, the
 * CLI's request). Each field reports at most one problem, beginning with its key and quoting at
 * most a short excerpt of the value: the SDK joins these messages into the error text a model reads.
 */

type Issue = { input?: unknown };

/** The message for a value of the wrong JSON type (a 1 MB string where a number goes stays short). */
const wrongType = (field: string, expected: string, advice: string) => ({
  error: (issue: Issue) => `${field} must be ${expected}; got ${excerpt(issue.input)}. ${advice}`,
});

/** Reports a refused value as the field's one issue (no further check runs on it). */
function report<T>(checked: Checked<T>, ctx: z.RefinementCtx): void {
  if (!checked.ok) ctx.addIssue({ code: 'custom', message: checked.problem, continue: false });
}

/** Free text: controls refused with their index, NFC, the configured length limit. */
export function textField(rule: TextRule, advice = 'Pass the description of the image as a string.') {
  return z
    .string(wrongType(rule.field, 'text', advice))
    .superRefine((value, ctx) => report(checkText(value, rule), ctx))
    .overwrite((value) => value.normalize('NFC'));
}

/** An id, a name or a path: length cap, one line, no controls, the rule's pattern. */
export function identifierField(field: string, rule: IdentifierRule, advice = '') {
  return z
    .string(wrongType(field, rule.expected, advice))
    .superRefine((value, ctx) => {
      const checked = checkIdentifier(value, field, rule);
      report(checked.ok || !advice ? checked : { ok: false, problem: `${checked.problem} ${advice}` }, ctx);
    });
}

export type ParamValue = string | number | boolean;

/**
 * A template's other parameters by name. Checked by hand rather than with z.record, which
 * refuses an object that has a "constructor" key and drops a "__proto__" key without a word:
 * here every key is an ordinary name (unknown ones are refused later with the template's list),
 * values are text, numbers or true/false, and text follows the text rule (`prompt` that of the
 * prompt). The result has no prototype.
 */
export function paramsField(textRule: (key: string) => TextRule) {
  const advice = 'list_workflows shows the names a workflow declares.';
  return z
    .unknown()
    .superRefine((value, ctx) => report(checkParams(value, textRule, advice), ctx))
    .transform((value) => toParams(value, textRule))
    .meta({ type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } });
}

/** Parameters beyond this are a mistake: no template declares that many. */
const MAX_PARAMS = 100;

function checkParams(value: unknown, textRule: (key: string) => TextRule, advice: string): Checked<true> {
  const fail = (problem: string): Checked<true> => ({ ok: false, problem });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(`params must be an object of parameter name to value, e.g. {"filename_prefix": "fox"}; got ${excerpt(value)}. ${advice}`);
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_PARAMS) return fail(`params has ${keys.length} entries; the limit is ${MAX_PARAMS}. ${advice}`);
  for (const key of keys) {
    const name = checkIdentifier(key, 'each params key', PARAMETER_NAME);
    if (!name.ok) return fail(`${name.problem} ${advice}`);
    const entry = (value as Record<string, unknown>)[key];
    if (typeof entry === 'string') {
      const text = checkText(entry, textRule(key));
      if (!text.ok) return text;
    } else if (typeof entry !== 'number' && typeof entry !== 'boolean' && entry !== undefined) {
      return fail(`params.${key} must be text, a number or true/false; got ${excerpt(entry)}. ${advice}`);
    }
  }
  return { ok: true, value: true };
}

function toParams(value: unknown, textRule: (key: string) => TextRule): Record<string, ParamValue> {
  const out = nullRecord<ParamValue>();
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    if (entry === undefined) continue;
    const text = typeof entry === 'string' ? checkText(entry, textRule(key)) : undefined;
    out[key] = text?.ok ? text.value : (entry as ParamValue);
  }
  return out;
}

const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A JSON object argument with keys of the caller's choosing (a workflow, a sidecar's parameters),
 * or also JSON text when `orText`. Checked by hand rather than with z.record, whose check throws a
 * TypeError on an object whose own "constructor" is null (the caller then read zod's "Cannot read
 * properties of null"); the value is passed on as given, for the code that reads it to check.
 * `T` is what passes: an object, or `Record<string, unknown> | string` with `orText`.
 */
export function jsonObjectField<T extends Record<string, unknown> | string = Record<string, unknown>>(field: string, expected: string, advice: string, options: { orText?: boolean } = {}) {
  const fits = (value: unknown) => isJsonObject(value) || (options.orText === true && typeof value === 'string');
  const object = { type: 'object', additionalProperties: {} } as const;
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (!fits(value)) ctx.addIssue({ code: 'custom', message: `${field} must be ${expected}; got ${excerpt(value)}. ${advice}`, continue: false });
    })
    .transform((value) => value as T)
    .meta(options.orText ? { anyOf: [object, { type: 'string' }] } : object);
}
