/**
 * UI workflow -> API prompt, reproducing what the ComfyUI frontend does before queueing
 * (protocol §7.3). Needs the target server's /object_info to know which inputs are widgets.
 */
import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import { isLink } from '../comfy/types.js';
import { WorkflowInvalidError } from '../errors.js';
import { findInputSpec } from './input-spec.js';
import { LinkResolver } from './ui-resolve.js';
import type { Scope } from './ui-scope.js';
import { rootScope } from './ui-scope.js';
import type { UiWorkflow } from './ui-types.js';
import { MODE_BYPASS, MODE_MUTED, NOTE_TYPES, checkNodes, collectSubgraphs, isUiWorkflow } from './ui-types.js';
import { widgetValues, wrapConstant } from './widget-values.js';
import { own } from '../input-policy/index.js';

/** Frontend-only node types: never emitted, resolved through (Reroute, PrimitiveNode) or ignored. */
const VIRTUAL_TYPES = new Set(['Reroute', 'PrimitiveNode', ...NOTE_TYPES]);

export interface UiConversion {
  prompt: ApiPrompt;
  /** Things the conversion skipped that a person may want to know about. */
  warnings: string[];
}

interface UnknownNode { id: string; type: string; title?: string }

export function convertUiToApi(workflow: unknown, objectInfo: ObjectInfo, source = 'workflow'): UiConversion {
  if (!isUiWorkflow(workflow)) {
    throw new WorkflowInvalidError(`${source} is not a UI-format workflow (it needs "nodes" and "links" arrays).`);
  }
  const ui = workflow as UiWorkflow;
  const resolver = new LinkResolver(objectInfo, collectSubgraphs(ui), ui.extra?.groupNodes ?? {});
  const prompt: ApiPrompt = {};
  const warnings: string[] = [];
  const unknown: UnknownNode[] = [];

  const emitScope = (scope: Scope): void => {
    for (const node of scope.nodes.values()) {
      // Muted and bypassed nodes are never sent; bypass is handled where their outputs are used.
      if (node.mode === MODE_MUTED || node.mode === MODE_BYPASS || VIRTUAL_TYPES.has(node.type)) continue;
      const child = resolver.childScope(scope, node);
      if (child) {
        emitScope(child);
        continue;
      }
      const id = `${scope.prefix}${String(node.id)}`;
      const info = own(objectInfo, node.type);
      if (!info) {
        unknown.push({ id, type: node.type, ...(node.title ? { title: node.title } : {}) });
        continue;
      }
      const inputs = widgetValues(node, info);
      for (const input of node.inputs ?? []) {
        if (input.link == null) continue;
        const name = input.widget?.name ?? input.name;
        if (input.widget && !findInputSpec(info, name)) {
          warnings.push(`Node ${id} (${node.type}): linked widget "${name}" is not an input of ${node.type}; the link was ignored.`);
          continue;
        }
        // A linked input replaces the widget value of the same name (stale in old files).
        const resolved = resolver.resolveLink(scope, input.link);
        if (resolved.kind === 'link') inputs[name] = resolved.ref;
        else if (resolved.kind === 'value') inputs[name] = wrapConstant(resolved.value);
        else if (resolved.kind === 'missing') delete inputs[name];
      }
      prompt[id] = { class_type: node.type, inputs, _meta: { title: node.title ?? info.display_name ?? node.type } };
    }
  };

  emitScope(rootScope(checkNodes(ui.nodes, source), ui.links));
  if (unknown.length > 0) throw unknownNodesError(unknown, source);
  dropDanglingLinks(prompt);
  return { prompt, warnings };
}

/** Step 5: inputs linking to a node that was not emitted would fail validation; remove them. */
function dropDanglingLinks(prompt: ApiPrompt): void {
  for (const node of Object.values(prompt)) {
    for (const [name, value] of Object.entries(node.inputs)) {
      if (isLink(value) && !(value[0] in prompt)) delete node.inputs[name];
    }
  }
}

function unknownNodesError(nodes: UnknownNode[], source: string): WorkflowInvalidError {
  const list = nodes.map((n) => `node ${n.id}${n.title ? ` "${n.title}"` : ''} (type ${n.type})`).join(', ');
  const types = [...new Set(nodes.map((n) => n.type))];
  return new WorkflowInvalidError(
    `${source} uses node types this ComfyUI server does not know: ${list}.`,
    {
      hint: `The custom node pack that provides ${types.join(', ')} is probably not installed on the server. ` +
        'Install it (e.g. with ComfyUI-Manager) and restart ComfyUI, or remove those nodes from the workflow.',
      context: { unknownTypes: types, nodes },
    },
  );
}

