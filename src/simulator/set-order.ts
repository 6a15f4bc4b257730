/**
 * ComfyUI collects output node ids in a Python `set` and executes them in set iteration
 * order, which follows string hashes that Python randomizes per process. Clients must not
 * rely on it. We mimic a small open-addressing table with a fixed FNV-1a hash so the order
 * is stable, not simply prompt order, and (seed chosen for this) reproduces the order
 * recorded in the transcripts (outputs {4,5,6} ran as 5, 4, 6).
 */
const SEED = 6;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(text: string): number {
  let h = (FNV_OFFSET ^ SEED) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h;
}

export function pythonSetOrder(ids: readonly string[]): string[] {
  const unique = [...new Set(ids)];
  let size = 8;
  while (unique.length * 5 >= size * 3) size *= 4;
  const table: Array<string | undefined> = new Array<string | undefined>(size).fill(undefined);
  for (const id of unique) {
    let slot = fnv1a(id) & (size - 1);
    while (table[slot] !== undefined) slot = (slot + 1) & (size - 1);
    table[slot] = id;
  }
  return table.filter((x): x is string => x !== undefined);
}
