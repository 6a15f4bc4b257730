import type { InputSpec, NodeInfo, ObjectInfo } from '../comfy/types.js';

/**
 * One /object_info for a fleet: every node class any host has, and for each choice list (models,
 * samplers, input images) every value any host offers. Template preparation and validation read
 * it like a single server's; dispatch then sends the prompt to a host that has what it names
 * (dispatch.ts). The first host's entries are reused as they are; an entry is copied only where a
 * later host adds choices to it.
 */
export function mergeObjectInfo(infos: readonly ObjectInfo[]): ObjectInfo {
  if (infos.length === 1) return infos[0]!;
  const merged: ObjectInfo = Object.create(null) as ObjectInfo;
  const copied = new Set<string>();
  for (const info of infos) {
    for (const [name, node] of Object.entries(info)) {
      const have = merged[name];
      if (have === undefined) {
        merged[name] = node;
        continue;
      }
      for (const section of ['required', 'optional'] as const) {
        for (const [input, spec] of Object.entries(node.input?.[section] ?? {})) {
          const mine = have.input?.[section]?.[input];
          if (mine === undefined) continue;
          const union = unionChoices(mine, spec);
          if (union === undefined) continue;
          const target = copied.has(name) ? have : (merged[name] = copyInputs(have));
          copied.add(name);
          target.input[section]![input] = union;
        }
      }
    }
  }
  return merged;
}

/** Choices of a combo: the legacy `[[...choices], opts]` or the newer `["COMBO", {options: [...]}]`. */
function choicesOf(spec: InputSpec): unknown[] | undefined {
  if (Array.isArray(spec[0])) return spec[0];
  const options = spec[1]?.['options'];
  return spec[0] === 'COMBO' && Array.isArray(options) ? options : undefined;
}

/** The first spec with the second's extra choices appended; undefined when it adds none. */
function unionChoices(a: InputSpec, b: InputSpec): InputSpec | undefined {
  const mine = choicesOf(a);
  const theirs = choicesOf(b);
  if (!mine || !theirs) return undefined;
  const seen = new Set(mine);
  const extra = theirs.filter((c) => !seen.has(c));
  if (extra.length === 0) return undefined;
  const all = [...mine, ...extra];
  if (Array.isArray(a[0])) return a.length > 1 ? [all, a[1]!] : [all];
  return ['COMBO', { ...a[1], options: all }];
}

function copyInputs(node: NodeInfo): NodeInfo {
  return {
    ...node,
    input: {
      ...node.input,
      ...(node.input.required ? { required: { ...node.input.required } } : {}),
      ...(node.input.optional ? { optional: { ...node.input.optional } } : {}),
    },
  };
}
