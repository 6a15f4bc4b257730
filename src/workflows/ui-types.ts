/**
 * The parts of the editor's UI workflow format (protocol §7.2) that conversion reads, and
 * their normalisation: links may be arrays (root, version 0.4) or objects (subgraphs, version 1),
 * node ids may be numbers or strings, and everything else is optional in old files.
 */
import { WorkflowInvalidError } from '../errors.js';

export interface UiInput {
  name: string;
  type?: string;
  link?: number | string | null;
  widget?: { name?: string };
}

export interface UiOutput {
  name?: string;
  type?: string;
  links?: Array<number | string> | null;
}

export interface UiNode {
  id: number | string;
  type: string;
  mode?: number;
  title?: string;
  inputs?: UiInput[];
  outputs?: UiOutput[];
  widgets_values?: unknown[] | Record<string, unknown>;
}

export interface UiLink {
  id: string;
  originId: string;
  originSlot: number;
  targetId: string;
  targetSlot: number;
  type: string;
}

export interface SubgraphDefinition {
  id: string;
  name?: string;
  nodes: UiNode[];
  links: unknown[];
  inputs?: Array<{ name: string; type?: string }>;
  outputs?: Array<{ name: string; type?: string; linkIds?: Array<number | string> }>;
  definitions?: { subgraphs?: SubgraphDefinition[] };
}

export interface GroupNodeDefinition {
  nodes: Array<UiNode & { index?: number }>;
  links: unknown[];
  external?: unknown[];
}

export interface UiWorkflow {
  nodes: UiNode[];
  links: unknown[];
  definitions?: { subgraphs?: SubgraphDefinition[] };
  extra?: { groupNodes?: Record<string, GroupNodeDefinition> };
}

/** Node modes the frontend uses (1 and 3 are litegraph event modes ComfyUI never sets). */
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

/** Subgraph boundary pseudo-node ids (protocol §7.2). */
export const SUBGRAPH_INPUT_ID = '-10';
export const SUBGRAPH_OUTPUT_ID = '-20';

/** Frontend-only node types that never reach the server. */
export const NOTE_TYPES = new Set(['Note', 'MarkdownNote']);

export function isUiWorkflow(value: unknown): value is UiWorkflow {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return Array.isArray(record.nodes) && Array.isArray(record.links);
}

/** One link in either layout; malformed entries (and floating links with no ends) give undefined. */
export function normalizeLink(raw: unknown): UiLink | undefined {
  if (Array.isArray(raw)) {
    const [id, originId, originSlot, targetId, targetSlot, type] = raw as unknown[];
    if (id == null || originId == null || targetId == null) return undefined;
    return {
      id: String(id),
      originId: String(originId),
      originSlot: Number(originSlot),
      targetId: String(targetId),
      targetSlot: Number(targetSlot),
      type: typeof type === 'string' ? type : '*',
    };
  }
  if (raw && typeof raw === 'object') {
    const r = raw as Record<string, unknown>;
    if (r.id == null || r.origin_id == null || r.target_id == null) return undefined;
    return {
      id: String(r.id),
      originId: String(r.origin_id),
      originSlot: Number(r.origin_slot),
      targetId: String(r.target_id),
      targetSlot: Number(r.target_slot),
      type: typeof r.type === 'string' ? r.type : '*',
    };
  }
  return undefined;
}

export function linkMap(rawLinks: unknown[]): Map<string, UiLink> {
  const map = new Map<string, UiLink>();
  for (const raw of rawLinks) {
    const link = normalizeLink(raw);
    if (link) map.set(link.id, link);
  }
  return map;
}

/** Checks the few fields conversion cannot do without, naming the offending node. */
export function checkNodes(nodes: unknown[], where: string): UiNode[] {
  return nodes.map((node, index) => {
    const n = node as Partial<UiNode> | null;
    if (!n || typeof n !== 'object' || n.id == null || typeof n.type !== 'string') {
      throw new WorkflowInvalidError(`${where}: nodes[${index}] has no id or no type.`, {
        hint: 'Every node of a UI workflow needs an "id" and a "type"; re-save the workflow from ComfyUI.',
      });
    }
    return n as UiNode;
  });
}

/** Collects subgraph definitions from the root and from nested `definitions`, keyed by id. */
export function collectSubgraphs(workflow: UiWorkflow): Map<string, SubgraphDefinition> {
  const found = new Map<string, SubgraphDefinition>();
  const visit = (defs: SubgraphDefinition[] | undefined): void => {
    for (const def of defs ?? []) {
      if (!def || typeof def.id !== 'string' || found.has(def.id)) continue;
      found.set(def.id, def);
      visit(def.definitions?.subgraphs);
    }
  };
  visit(workflow.definitions?.subgraphs);
  return found;
}
