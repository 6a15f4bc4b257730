/**
 * execution_error.current_inputs: input name -> list of values, primitives kept, anything
 * else stringified (the real server prints tensors; we print a short description).
 */
export function formatInputs(inputs: Record<string, unknown>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [name, value] of Object.entries(inputs)) out[name] = [describe(value)];
  return out;
}

function describe(value: unknown): unknown {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  if (Array.isArray(value) && value.length > 0 && isImage(value[0])) {
    const first = value[0] as { width: number; height: number };
    return `tensor(shape=[${value.length}, ${first.height}, ${first.width}, 3])`;
  }
  if (typeof value === 'object') return `<${Object.keys(value as object).join(',')} object>`;
  return String(value);
}

function isImage(v: unknown): boolean {
  return typeof v === 'object' && v !== null && 'width' in v && 'data' in v;
}
