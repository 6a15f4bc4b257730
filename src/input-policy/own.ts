/**
 * Lookups by a key someone else chose (a caller's prompt_id or parameter name, a node id or a
 * class name in ComfyUI's JSON) read own properties only: on a plain object `record["constructor"]`
 * is Object's constructor and `record["__proto__"]` its prototype, which code then takes for an
 * entry ("likely a comfywire bug", or a job that "had already finished"). Maps and null-prototype
 * records have no such keys; these helpers are for the plain objects JSON.parse and zod produce.
 */

/** The record's own entry for `key`, or undefined. */
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** An empty record without a prototype: any key, "__proto__" included, is an ordinary entry. */
export function nullRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
