/**
 * Reading `/object_info` input specs (protocol §2.8): `[type, options?]` where `type` is a
 * type name, a comma-separated union, or (legacy combo) the list of allowed values.
 */
import { own } from '../input-policy/index.js';
import type { InputSpec, NodeInfo } from '../comfy/types.js';

/** Types the frontend renders as widgets; everything else is a socket. */
const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

/** Upload options that make the frontend add one extra (button) widget after the combo. */
const UPLOAD_OPTIONS = ['image_upload', 'video_upload', 'audio_upload', 'file_upload'] as const;

export function specOptions(spec: InputSpec | undefined): Record<string, unknown> {
  const options = spec?.[1];
  return options && typeof options === 'object' ? options : {};
}

/** The spec of `name` in required, optional (in that order), or undefined. */
export function findInputSpec(info: NodeInfo | undefined, name: string): InputSpec | undefined {
  return own(info?.input.required, name) ?? own(info?.input.optional, name);
}

/** Input names in widget order: `input_order` when present, else the keys of the spec objects. */
export function orderedInputNames(info: NodeInfo): string[] {
  const required = info.input_order?.required ?? Object.keys(info.input.required ?? {});
  const optional = info.input_order?.optional ?? Object.keys(info.input.optional ?? {});
  return [...required, ...optional];
}

/** The allowed values of a combo (legacy list form or V3 `["COMBO", {options}]`), else undefined. */
export function comboChoices(spec: InputSpec | undefined): unknown[] | undefined {
  if (!spec) return undefined;
  if (Array.isArray(spec[0])) return spec[0];
  if (spec[0] === 'COMBO') {
    const options = specOptions(spec).options;
    return Array.isArray(options) ? options : [];
  }
  return undefined;
}

/** The type name of a non-combo spec (`"INT"`, `"MODEL"`...), or `"COMBO"` for either combo form. */
export function specType(spec: InputSpec | undefined): string | undefined {
  if (!spec) return undefined;
  return Array.isArray(spec[0]) ? 'COMBO' : spec[0];
}

/** A widget consumes a `widgets_values` slot; `forceInput` turns a widget type into a socket. */
export function isWidgetSpec(spec: InputSpec | undefined): boolean {
  const type = specType(spec);
  if (type === undefined || !WIDGET_TYPES.has(type)) return false;
  return specOptions(spec).forceInput !== true;
}

/**
 * How many UI-only widget values follow this input's own value in `widgets_values`
 * (protocol §7.3 step 3): the control_after_generate mode for numbers (also implied for INT
 * `seed`/`noise_seed` unless explicitly false), mode + filter for combos, and the upload button.
 */
export function extraWidgetSlots(name: string, spec: InputSpec): number {
  const options = specOptions(spec);
  const type = specType(spec);
  const control = options.control_after_generate;
  if (type === 'COMBO') {
    let extra = control ? 2 : 0;
    if (UPLOAD_OPTIONS.some((key) => options[key] === true)) extra += 1;
    return extra;
  }
  if (type === 'INT' || type === 'FLOAT') {
    if (control) return 1;
    if (type === 'INT' && (name === 'seed' || name === 'noise_seed') && control !== false) return 1;
  }
  return 0;
}

/** Whether a socket of type `offered` may feed an input of type `wanted` (`*` and unions). */
export function typesCompatible(offered: string, wanted: string): boolean {
  if (offered === '*' || wanted === '*' || offered === wanted) return true;
  const a = offered.split(',').map((t) => t.trim());
  const b = wanted.split(',').map((t) => t.trim());
  return a.some((t) => b.includes(t));
}
