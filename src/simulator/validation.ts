import type { ApiPrompt, ObjectInfo } from '../comfy/types.js';
import type { NodeImpl } from './nodes/types.js';
import { pythonSetOrder } from './set-order.js';
import { FAKE_TRACEBACK, PyException, validateNode, type InputValidationContext, type NodeError, type Validated } from './validation-inputs.js';

/** The top-level `error` of a 400: ComfyUI builds it as the same dict as a node error entry. */
export type PromptError = NodeError;

export type NodeErrors = Record<string, { errors: NodeError[]; dependent_outputs: string[]; class_type: string }>;

export interface ValidationResult {
  ok: boolean;
  error?: PromptError;
  /** Output nodes that passed, in the server's (set) order: what gets executed. */
  outputs: string[];
  nodeErrors: NodeErrors;
}

/**
 * validate_prompt: class checks over every node, then each output node's inputs (and,
 * recursively, its ancestors'). A 200 can carry node_errors for outputs that were dropped.
 * Mutates the prompt the way the server does (constants converted in place).
 */
export function validatePrompt(
  prompt: ApiPrompt,
  deps: { objectInfo: ObjectInfo; impls: Readonly<Record<string, NodeImpl>>; files: InputValidationContext['files'] },
  partialTargets?: string[],
): ValidationResult {
  const outputSet: string[] = [];
  for (const [id, node] of Object.entries(prompt)) {
    if (node === null || typeof node !== 'object' || !('class_type' in node)) {
      return fail({ type: 'invalid_prompt', message: 'Cannot execute because a node is missing the class_type property.', details: `Node ID '#${id}'`, extra_info: {} });
    }
    const info = deps.objectInfo[node.class_type];
    if (!info || !deps.impls[node.class_type]) {
      return fail({ type: 'invalid_prompt', message: `Cannot execute because node ${String(node.class_type)} does not exist.`, details: `Node ID '#${id}'`, extra_info: {} });
    }
    if (info.output_node && (!partialTargets || partialTargets.includes(id))) outputSet.push(id);
  }
  if (outputSet.length === 0) return fail({ type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} });

  const ctx: InputValidationContext = { prompt, objectInfo: deps.objectInfo, impls: deps.impls, files: deps.files, validated: new Map<string, Validated>() };
  const good: string[] = [];
  const outputReasons: Array<[string, NodeError[]]> = [];
  const nodeErrors: NodeErrors = {};
  for (const o of pythonSetOrder(outputSet)) {
    let valid = false;
    let reasons: NodeError[] = [];
    try {
      const r = validateNode(ctx, o);
      valid = r.valid;
      reasons = r.errors;
    } catch (ex) {
      const e = ex instanceof PyException ? ex : new PyException('Exception', String(ex));
      reasons = [{ type: 'exception_during_validation', message: 'Exception when validating node', details: e.text, extra_info: { exception_type: e.pyType, traceback: FAKE_TRACEBACK } }];
      ctx.validated.set(o, { valid: false, errors: reasons });
    }
    if (valid) {
      good.push(o);
      continue;
    }
    if (reasons.length > 0) outputReasons.push([o, reasons]);
    // The server walks every validated node here, so an erroring node also lists outputs
    // that merely failed alongside it; kept as is.
    for (const [nodeId, result] of ctx.validated) {
      if (result.valid || result.errors.length === 0) continue;
      const entry = (nodeErrors[nodeId] ??= { errors: result.errors, dependent_outputs: [], class_type: prompt[nodeId]?.class_type ?? '' });
      entry.dependent_outputs.push(o);
    }
  }
  if (good.length === 0) {
    const details = outputReasons.flatMap(([, errs]) => errs.map((e) => `${e.message}: ${e.details}`)).join('\n');
    return { ok: false, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} }, outputs: [], nodeErrors };
  }
  return { ok: true, outputs: pythonSetOrder(good), nodeErrors };
}

function fail(error: PromptError): ValidationResult {
  return { ok: false, error, outputs: [], nodeErrors: {} };
}
