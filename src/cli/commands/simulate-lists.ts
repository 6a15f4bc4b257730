import { InvalidArgumentError } from 'commander';
import { ParameterInvalidError } from '../../errors.js';
import { excerpt } from '../../input-policy/excerpt.js';
import { CUSTOM_NODE_PACKS } from '../../simulator/custom-nodes.js';

/**
 * `comfywire simulate --instances N`'s per-instance flags: one value for every instance, or a
 * list with one per instance (`--step-delay 50,150`; `--checkpoints a,b;b`, instances separated
 * by `;`). The shape of each value is checked while commander parses (a usage error naming the
 * flag); the length against N once every flag is known.
 */

/** More simulators than this in one process is a mistake, not a demo (each holds a server and a worker). */
export const MAX_INSTANCES = 256;
/** A checkpoint name in a flag: a file name as ComfyUI lists them (a subfolder may lead: sdxl/base.safetensors). */
const MAX_NAME_CHARS = 255;
const DECIMAL = /^\d+(\.\d+)?$/;

/** `--api`: the ComfyUI API generation every instance serves (src/simulator/api-generation.ts). */
export function parseApi(text: string): '0.3.64' | 'latest' {
  if (text === '0.3.64' || text === 'latest') return text;
  throw new InvalidArgumentError(`takes 0.3.64 or latest, got ${excerpt(text)}.`);
}

/** `--custom-nodes`: custom node packs every instance has installed, by ","; each one the simulator has (src/simulator/custom-nodes.ts). */
export function parseCustomNodes(text: string): string[] {
  const packs = text.split(',').map((p) => p.trim()).filter(Boolean);
  const known = Object.keys(CUSTOM_NODE_PACKS);
  const unknown = packs.find((p) => !known.includes(p));
  if (packs.length === 0 || unknown !== undefined) {
    throw new InvalidArgumentError(`takes custom node packs separated by commas, from: ${known.join(', ')}; got ${excerpt(unknown ?? text)}.`);
  }
  return [...new Set(packs)];
}

/** `--instances`: a whole number 1..MAX_INSTANCES. */
export function parseInstances(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > MAX_INSTANCES) throw new InvalidArgumentError(`takes a whole number from 1 to ${MAX_INSTANCES}, got ${excerpt(text)}.`);
  return n;
}

/** `--step-delay` / `--model-load`: milliseconds, 0 or more, one or comma-separated. */
export function parseMsList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.some((p) => !DECIMAL.test(p))) {
    throw new InvalidArgumentError(`takes milliseconds (0 or more), one value or one per instance separated by commas (e.g. 50,150); got ${excerpt(text)}.`);
  }
  return values;
}

/** `--checkpoints`: instances separated by `;`, names within one by `,` (e.g. a.safetensors,b.safetensors;b.safetensors). */
export function parseCheckpointSets(text: string): string[][] {
  const sets = text.split(';').map((set) => set.split(',').map((name) => name.trim()));
  const bad = sets.flat().find((name) => name === '' || name.length > MAX_NAME_CHARS || /\p{Cc}/u.test(name));
  if (bad !== undefined) {
    throw new InvalidArgumentError(`takes checkpoint file names, ',' between names and ';' between instances (e.g. a.safetensors,b.safetensors;b.safetensors); ${bad === '' ? 'a name is empty' : `${excerpt(bad)} is not a file name`}.`);
  }
  return sets;
}

/** The list as one value per instance: a single value serves all; any other length but N is a usage error. */
export function perInstance<T>(flag: string, values: readonly T[], count: number): T[] {
  if (values.length === 1) return Array.from({ length: count }, () => values[0] as T);
  if (values.length === count) return [...values];
  throw new ParameterInvalidError(`${flag}: ${values.length} values for ${count} instances.`, {
    hint: `Give ${flag} one value for every instance, or exactly ${count} (one per instance, in port order).`,
  });
}
