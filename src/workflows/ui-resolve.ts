/**
 * Following a UI link back to what the server should receive (protocol §7.3 step 4): through
 * Reroutes, bypassed nodes and subgraph/group boundaries to a real node's output, to a
 * PrimitiveNode's constant, or to nothing (muted, Note, dangling).
 */
import type { ObjectInfo } from '../comfy/types.js';
import { WorkflowInvalidError } from '../errors.js';
import type { Scope } from './ui-scope.js';
import { groupScope, subgraphScope } from './ui-scope.js';
import type { GroupNodeDefinition, SubgraphDefinition, UiInput, UiNode } from './ui-types.js';
import { MODE_BYPASS, MODE_MUTED, NOTE_TYPES, SUBGRAPH_INPUT_ID } from './ui-types.js';
import { typesCompatible } from './input-spec.js';
import { own } from '../input-policy/index.js';

export type Resolved =
  | { kind: 'link'; ref: [string, number] }
  | { kind: 'value'; value: unknown }
  /** Feeds nothing: the consumer's input must be removed (muted source, bypass without match). */
  | { kind: 'missing' }
  /** An unconnected subgraph input: the inner node keeps its own widget value. */
  | { kind: 'unbound' };

/** A chain of hops longer than this can only be a cycle (a Reroute loop, a self-nesting subgraph). */
const MAX_DEPTH = 500;

const GROUP_PREFIXES = ['workflow>', 'workflow/'];

export class LinkResolver {
  private readonly children = new Map<string, Scope>();
  private depth = 0;

  constructor(
    private readonly objectInfo: ObjectInfo,
    private readonly subgraphs: Map<string, SubgraphDefinition>,
    private readonly groupNodes: Record<string, GroupNodeDefinition>,
  ) {}

  /** The inner scope of a subgraph instance or legacy group node; undefined for plain nodes. */
  childScope(scope: Scope, node: UiNode): Scope | undefined {
    const key = `${scope.prefix}${String(node.id)}`;
    const cached = this.children.get(key);
    if (cached) return cached;
    let child: Scope | undefined;
    const subgraph = this.subgraphs.get(node.type);
    if (subgraph) child = subgraphScope(scope, node, subgraph);
    const groupName = GROUP_PREFIXES.find((p) => node.type.startsWith(p));
    const group = groupName ? this.groupNodes[node.type.slice(groupName.length)] : undefined;
    if (!child && group && !own(this.objectInfo, node.type)) child = groupScope(scope, node, group, this.objectInfo);
    if (child) {
      if (key.split(':').length > 64) throw cycleError(key);
      this.children.set(key, child);
    }
    return child;
  }

  resolveLink(scope: Scope, linkId: number | string): Resolved {
    if (this.depth >= MAX_DEPTH) throw cycleError(`${scope.prefix}${String(linkId)}`);
    this.depth += 1;
    try {
      return this.resolveLinkOnce(scope, linkId);
    } finally {
      this.depth -= 1;
    }
  }

  private resolveLinkOnce(scope: Scope, linkId: number | string): Resolved {
    const link = scope.links.get(String(linkId));
    if (!link) return { kind: 'missing' };
    if (link.originId === SUBGRAPH_INPUT_ID) return this.resolveBoundary(scope, link.originSlot);
    return this.resolveOutput(scope, link.originId, link.originSlot, link.type);
  }

  private resolveOutput(scope: Scope, nodeId: string, slot: number, linkType: string): Resolved {
    const node = scope.nodes.get(nodeId);
    if (!node || node.mode === MODE_MUTED || NOTE_TYPES.has(node.type)) return { kind: 'missing' };
    if (node.type === 'Reroute') return this.follow(scope, node.inputs?.[0]);
    if (node.type === 'PrimitiveNode') {
      // Legacy frontend-only node: it writes its value into the target widget.
      const value = Array.isArray(node.widgets_values) ? node.widgets_values[0] : undefined;
      return value === undefined ? { kind: 'missing' } : { kind: 'value', value };
    }
    if (node.mode === MODE_BYPASS) return this.follow(scope, bypassInput(node, slot, linkType));
    const child = this.childScope(scope, node);
    if (child) {
      const source = child.outputSource(slot);
      if (!source) return { kind: 'missing' };
      if (source.originId === SUBGRAPH_INPUT_ID) return this.resolveBoundary(child, source.originSlot);
      return this.resolveOutput(child, source.originId, source.originSlot, linkType);
    }
    return { kind: 'link', ref: [`${scope.prefix}${nodeId}`, slot] };
  }

  private resolveBoundary(scope: Scope, slot: number): Resolved {
    const parent = scope.parent;
    if (!parent) return { kind: 'missing' };
    const input = parent.boundaryInput(slot);
    if (input?.link != null) return this.resolveLink(parent.scope, input.link);
    const value = parent.boundaryWidgetValue(slot);
    return value === undefined ? { kind: 'unbound' } : { kind: 'value', value };
  }

  private follow(scope: Scope, input: UiInput | undefined): Resolved {
    return input?.link != null ? this.resolveLink(scope, input.link) : { kind: 'missing' };
  }
}

/**
 * A bypassed node passes through the input matching the used output: the input at the same
 * index if its type is the same, else the first input of exactly that type, else the first
 * compatible one.
 */
export function bypassInput(node: UiNode, slot: number, linkType: string): UiInput | undefined {
  const inputs = node.inputs ?? [];
  const wanted = node.outputs?.[slot]?.type ?? linkType;
  const same = inputs[slot];
  if (same && same.type === wanted) return same;
  return inputs.find((input) => input.type === wanted)
    ?? inputs.find((input) => input.type !== undefined && typesCompatible(input.type, wanted));
}

function cycleError(where: string): WorkflowInvalidError {
  return new WorkflowInvalidError(`The workflow's links loop back on themselves (near ${where}).`, {
    hint: 'Open the workflow in ComfyUI and remove the loop (often a Reroute chain or a subgraph that contains itself).',
  });
}
