/** Python's str()/repr() for the few value kinds that appear in ComfyUI error texts. */

export function pyRepr(value: unknown): string {
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }
  return pyStr(value);
}

export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  }
  return String(value);
}

/** Python's bool(): empty strings, lists and dicts, 0 and None are false; "false" is true. */
export function pyTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/** The text forms Python's float() accepts (no hex, no empty string; inf/nan and `_` separators allowed). */
const PY_FLOAT_TEXT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf|infinity|nan)$/i;
/** The text forms Python's int() accepts in base 10. */
const PY_INT_TEXT = /^[+-]?\d(?:_?\d)*$/;

/** Python's float(); undefined where Python raises (TypeError/ValueError). */
export function pyFloat(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!PY_FLOAT_TEXT.test(text)) return undefined;
  const lower = text.toLowerCase().replace(/_/g, '');
  if (/^[+-]?nan$/.test(lower)) return Number.NaN;
  if (/^[+-]?inf(inity)?$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(lower);
}

/** Python's int() on a string in base 10; undefined where Python raises. */
export function pyIntText(value: string): number | undefined {
  const text = value.trim();
  return PY_INT_TEXT.test(text) ? Number(text.replace(/_/g, '')) : undefined;
}

/** type(v).__name__ for JSON values. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'object') return Array.isArray(v) ? 'list' : 'dict';
  return typeof v;
}
