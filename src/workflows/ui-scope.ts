/**
 * A scope is one graph level: the root, a subgraph instance's inner graph, or a legacy group
 * node's inner graph. Node ids inside a scope are local; the API id is `prefix + localId`
 * (protocol §6.8: `"S:n"`, nested `"S:T:n"`, group nodes `"<group>:<index>"`). Link ids repeat
 * across scopes, so each scope keeps its own link table.
 */
import type { ObjectInfo } from '../comfy/types.js';
import type { GroupNodeDefinition, SubgraphDefinition, UiInput, UiLink, UiNode } from './ui-types.js';
import { SUBGRAPH_INPUT_ID, SUBGRAPH_OUTPUT_ID, checkNodes, linkMap } from './ui-types.js';
import { widgetSlotCount } from './widget-values.js';
import { own } from '../input-policy/index.js';

export interface Scope {
  prefix: string;
  nodes: Map<string, UiNode>;
  links: Map<string, UiLink>;
  /** Where output slot `k` of the owning instance comes from inside this scope. */
  outputSource(slot: number): { originId: string; originSlot: number } | undefined;
  parent?: {
    scope: Scope;
    instance: UiNode;
    /** The instance input that feeds boundary slot `k` (origin -10, slot k). */
    boundaryInput(slot: number): UiInput | undefined;
    /** The instance's own widget value for boundary slot `k`, when that input is a widget. */
    boundaryWidgetValue(slot: number): unknown;
  };
}

export function nodeMap(nodes: UiNode[]): Map<string, UiNode> {
  return new Map(nodes.map((node) => [String(node.id), node]));
}

export function rootScope(nodes: UiNode[], links: unknown[]): Scope {
  return { prefix: '', nodes: nodeMap(nodes), links: linkMap(links), outputSource: () => undefined };
}

export function subgraphScope(parent: Scope, instance: UiNode, def: SubgraphDefinition): Scope {
  const links = linkMap(def.links ?? []);
  const instanceInputs = instance.inputs ?? [];
  const boundaryInput = (slot: number): UiInput | undefined => {
    const name = def.inputs?.[slot]?.name;
    return instanceInputs.find((input) => name !== undefined && input.name === name) ?? instanceInputs[slot];
  };
  return {
    prefix: `${parent.prefix}${String(instance.id)}:`,
    nodes: nodeMap(checkNodes(def.nodes ?? [], `subgraph ${def.name ?? def.id}`)),
    links,
    outputSource(slot) {
      const declared = def.outputs?.[slot]?.linkIds?.[0];
      const link = declared !== undefined ? links.get(String(declared)) : undefined;
      const found = link ?? [...links.values()].find((l) => l.targetId === SUBGRAPH_OUTPUT_ID && l.targetSlot === slot);
      return found && { originId: found.originId, originSlot: found.originSlot };
    },
    parent: {
      scope: parent,
      instance,
      boundaryInput,
      boundaryWidgetValue(slot) {
        // Promoted widgets on the instance are stored in the order of its widget inputs.
        const input = boundaryInput(slot);
        if (!input?.widget || !Array.isArray(instance.widgets_values)) return undefined;
        const position = instanceInputs.filter((i) => i.widget).indexOf(input);
        return position >= 0 ? instance.widgets_values[position] : undefined;
      },
    },
  };
}

/**
 * Legacy group nodes (`workflow>name`, defined in `extra.groupNodes`): inner nodes are known by
 * their index, links are `[originIndex, originSlot, targetIndex, targetSlot, ...]`, the instance's
 * inputs are the inner inputs not linked internally, its outputs the inner outputs not linked
 * internally (or listed in `external`), and its `widgets_values` concatenates the inner widgets.
 */
export function groupScope(parent: Scope, instance: UiNode, def: GroupNodeDefinition, objectInfo: ObjectInfo): Scope {
  const inner = checkNodes(def.nodes ?? [], `group node ${instance.type}`)
    .map((node, position) => ({ node, index: (node as { index?: number }).index ?? position }))
    .sort((a, b) => a.index - b.index)
    .map(({ node, index }) => ({ ...node, id: String(index), inputs: (node.inputs ?? []).map((i): UiInput => ({ ...i, link: null })) }));

  const links = new Map<string, UiLink>();
  const internalOut = new Set<string>();
  (def.links ?? []).forEach((raw, i) => {
    if (!Array.isArray(raw)) return;
    const [originIndex, originSlot, targetIndex, targetSlot, , type] = raw as unknown[];
    const id = `group-link-${i}`;
    links.set(id, { id, originId: String(originIndex), originSlot: Number(originSlot),
      targetId: String(targetIndex), targetSlot: Number(targetSlot), type: typeof type === 'string' ? type : '*' });
    internalOut.add(`${String(originIndex)}/${String(originSlot)}`);
    const input = inner.find((n) => n.id === String(targetIndex))?.inputs[Number(targetSlot)];
    if (input) input.link = id;
  });

  // Inner inputs left unlinked become the instance's inputs, in node then slot order.
  let boundary = 0;
  for (const node of inner) {
    for (const input of node.inputs) {
      if (input.link != null) continue;
      const id = `group-boundary-${boundary}`;
      links.set(id, { id, originId: SUBGRAPH_INPUT_ID, originSlot: boundary, targetId: node.id, targetSlot: 0, type: input.type ?? '*' });
      input.link = id;
      boundary += 1;
    }
  }

  const external = new Set((def.external ?? []).filter(Array.isArray).map((e) => `${String(e[0])}/${String(e[1])}`));
  const exposed: Array<{ originId: string; originSlot: number }> = [];
  for (const node of inner) {
    (node.outputs ?? []).forEach((_, slot) => {
      const key = `${node.id}/${slot}`;
      if (!internalOut.has(key) || external.has(key)) exposed.push({ originId: node.id, originSlot: slot });
    });
  }

  // The instance holds the current widget values; slice them back onto the inner nodes.
  if (Array.isArray(instance.widgets_values)) {
    let offset = 0;
    for (const node of inner) {
      const info = own(objectInfo, node.type);
      if (!info) continue;
      const count = widgetSlotCount(node, info);
      const slice = instance.widgets_values.slice(offset, offset + count);
      if (slice.length === count && count > 0) node.widgets_values = slice;
      offset += count;
    }
  }

  return {
    prefix: `${parent.prefix}${String(instance.id)}:`,
    nodes: nodeMap(inner),
    links,
    outputSource: (slot) => exposed[slot],
    parent: {
      scope: parent,
      instance,
      boundaryInput: (slot) => instance.inputs?.[slot],
      boundaryWidgetValue: () => undefined,
    },
  };
}
