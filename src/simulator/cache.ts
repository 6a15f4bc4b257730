import { createHash } from 'node:crypto';
import type { ApiPrompt } from '../comfy/types.js';
import { isLink } from '../comfy/types.js';
import type { NodeImpl, UiOutput } from './nodes/types.js';

export interface CacheEntry {
  outputs: unknown[];
  ui: UiOutput | undefined;
}

/**
 * Output cache keyed by input signature (class + constant inputs + IS_CHANGED + the
 * signatures of linked ancestors), not by node id, like ComfyUI's classic cache. After each
 * prompt only the signatures of that prompt are kept.
 */
export class OutputCache {
  private readonly entries = new Map<string, CacheEntry>();

  get(signature: string): CacheEntry | undefined {
    return this.entries.get(signature);
  }

  set(signature: string, entry: CacheEntry): void {
    this.entries.set(signature, entry);
  }

  keepOnly(signatures: Iterable<string>): void {
    const keep = new Set(signatures);
    for (const key of [...this.entries.keys()]) if (!keep.has(key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Signatures of every node of a prompt (memoized walk up the links). */
export function computeSignatures(
  prompt: ApiPrompt,
  impls: Readonly<Record<string, NodeImpl>>,
  isChangedCtx: Parameters<NonNullable<NodeImpl['isChanged']>>[1],
): Map<string, string> {
  const out = new Map<string, string>();
  const visiting = new Set<string>();
  const sign = (id: string): string => {
    const known = out.get(id);
    if (known) return known;
    const node = prompt[id];
    if (!node || visiting.has(id)) return `missing:${id}`;
    visiting.add(id);
    const impl = impls[node.class_type];
    const parts: unknown[] = [node.class_type, impl?.isChanged ? impl.isChanged(node.inputs, isChangedCtx) : null];
    for (const key of Object.keys(node.inputs).sort()) {
      const value = node.inputs[key];
      parts.push(key, isLink(value) ? ['link', sign(value[0]), value[1]] : value);
    }
    visiting.delete(id);
    const signature = createHash('sha1').update(JSON.stringify(parts)).digest('hex');
    out.set(id, signature);
    return signature;
  };
  for (const id of Object.keys(prompt)) sign(id);
  return out;
}
