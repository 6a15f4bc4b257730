import { safeParse } from '../safe-parse.js';
import { ComfyHttpError, PromptRejectedError, type ComfywireError, type NodeInputProblem } from '../errors.js';
import { PromptRejectedSchema, type NodeErrorItem, type NodeErrors, type PromptRejectedBody } from './schemas.js';
import type { ApiPrompt } from './types.js';
import { own } from '../input-policy/index.js';

/**
 * ComfyUI's validation report (`node_errors`, per node: errors[], class_type, dependent_outputs)
 * turned into one NodeInputProblem per node input, each with a `fix` sentence. The fix is the
 * part an agent acts on, so it names concrete values (allowed list, min, max) when ComfyUI gave them.
 */

/** How many allowed values of a combo to quote; the rest are counted. */
const MAX_LISTED_CHOICES = 10;

/** Error types whose `details` only repeat what the fix already says. */
const DETAILS_IN_FIX = new Set([
  'value_not_in_list', 'required_input_missing', 'value_smaller_than_min', 'value_bigger_than_max', 'return_type_mismatch', 'invalid_prompt',
]);

export function mapNodeErrors(nodeErrors: NodeErrors, prompt?: ApiPrompt): NodeInputProblem[] {
  const problems: NodeInputProblem[] = [];
  for (const [nodeId, entry] of Object.entries(nodeErrors)) {
    const classType = entry.class_type ?? prompt?.[nodeId]?.class_type;
    for (const item of entry.errors) {
      const extra = item.extra_info;
      const inputName = typeof extra['input_name'] === 'string' ? extra['input_name'] : undefined;
      const problem: NodeInputProblem = {
        nodeId,
        classType,
        inputName,
        type: item.type,
        message: item.message,
        details: item.details,
        fix: fixFor(item, inputName, classType),
        dependentOutputs: entry.dependent_outputs,
      };
      if ('received_value' in extra) problem.receivedValue = extra['received_value'];
      problems.push(problem);
    }
  }
  return problems;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** `input_config` is `[type | choices[], options?]`, or null when ComfyUI left a long list out. */
function inputConfig(item: NodeErrorItem): { type: unknown; options: Record<string, unknown> } | undefined {
  const config = item.extra_info['input_config'];
  if (!Array.isArray(config)) return undefined;
  const options = config[1];
  return { type: config[0], options: options && typeof options === 'object' ? (options as Record<string, unknown>) : {} };
}

function fixFor(item: NodeErrorItem, inputName: string | undefined, classType: string | undefined): string {
  const extra = item.extra_info;
  const input = inputName ? `input "${inputName}"` : 'the input';
  const config = inputConfig(item);
  switch (item.type) {
    case 'value_not_in_list': {
      const choices = config && Array.isArray(config.type) ? config.type : undefined;
      if (!choices) {
        return `The allowed list is long (ComfyUI leaves out lists over 20 entries): take a value from object_info for ${classType ?? 'this node'} (list_models for model files). Names are exact and case-sensitive.`;
      }
      if (choices.length === 0) {
        return `ComfyUI offers no values for ${input}: for a model input, put the file into the matching ComfyUI models folder (then refresh or restart ComfyUI).`;
      }
      const shown = choices.slice(0, MAX_LISTED_CHOICES).map(quote).join(', ');
      const more = choices.length > MAX_LISTED_CHOICES ? ` (and ${choices.length - MAX_LISTED_CHOICES} more)` : '';
      return `Use one of: ${shown}${more}.`;
    }
    case 'value_smaller_than_min': {
      const min = config?.options['min'] ?? /min of (\S+)/.exec(item.message)?.[1];
      return min === undefined ? `Use a larger value for ${input}.` : `Use a value of at least ${String(min)} for ${input}.`;
    }
    case 'value_bigger_than_max': {
      const max = config?.options['max'] ?? /max of (\S+)/.exec(item.message)?.[1];
      return max === undefined ? `Use a smaller value for ${input}.` : `Use a value of at most ${String(max)} for ${input}.`;
    }
    case 'required_input_missing':
      return `Set ${input}: a value, or a link ["<source node id>", <output index>] to a node that produces it.`;
    case 'return_type_mismatch': {
      const expected = typeof config?.type === 'string' ? config.type : 'the expected type';
      const linked = Array.isArray(extra['linked_node']) ? ` (node ${String(extra['linked_node'][0])}, output ${String(extra['linked_node'][1])})` : '';
      return `Input${inputName ? ` "${inputName}"` : ''} expects ${expected} but the linked output${linked} gives ${String(extra['received_type'] ?? 'another type')}; link an output of type ${expected}.`;
    }
    case 'invalid_input_type':
      return `Send ${input} as a JSON value of its type${typeof config?.type === 'string' ? ` (${config.type})` : ''}: numbers as numbers, booleans as true/false, not strings.`;
    case 'bad_linked_input':
      return `A list value is read as a link ["<source node id>", <output index>]; to pass a list as a plain value, wrap it as {"__value__": [...]}.`;
    case 'exception_during_validation':
    case 'exception_during_inner_validation': {
      const missing = /^'(.+)'$/.exec(item.details)?.[1];
      if (missing !== undefined && extra['exception_type'] === 'KeyError') {
        return `A link points at node "${missing}", which is not in the prompt (or at an output slot the node lacks); fix or remove that link.`;
      }
      return `ComfyUI raised ${String(extra['exception_type'] ?? 'an exception')} while validating this node; check its inputs and the nodes linked into it.`;
    }
    case 'custom_validation_failed':
      return `The node's own check rejected ${input}. For a file input (e.g. LoadImage), upload the file first and use the name the upload returns.`;
    default:
      return `Fix ${input} as ComfyUI's message says, then submit again.`;
  }
}

/** One readable line per problem, grouped under its node. Used for 400s and for 200s with node_errors. */
export function explainProblems(problems: NodeInputProblem[]): string {
  const byNode = new Map<string, NodeInputProblem[]>();
  for (const p of problems) byNode.set(p.nodeId, [...(byNode.get(p.nodeId) ?? []), p]);
  const lines: string[] = [];
  for (const [nodeId, list] of byNode) {
    const first = list[0];
    const cls = first?.classType ? ` (${first.classType})` : '';
    const deps = first?.dependentOutputs ?? [];
    const outputs =
      deps.length === 0 ? '' : deps.length === 1 && deps[0] === nodeId ? ', an output node' : `; blocks output node ${deps.join(', ')}`;
    lines.push(`Node ${nodeId}${cls}${outputs}:`);
    for (const p of list) {
      const where = p.inputName ? `input "${p.inputName}"` : p.type;
      const received = p.receivedValue === undefined ? '' : ` (received ${quote(p.receivedValue)})`;
      const details = p.details && !DETAILS_IN_FIX.has(p.type) ? `: ${p.details}` : '';
      const message = p.message.replace(/\.$/, '');
      lines.push(`  - ${where}: ${message}${details}${received}. ${p.fix ?? ''}`.trimEnd());
    }
  }
  return lines.join('\n');
}

/** `invalid_prompt` carries no node_errors; its message names the class and details the node id. */
function invalidPromptProblems(error: PromptRejectedBody['error'], prompt?: ApiPrompt): NodeInputProblem[] {
  const nodeId = /#([^']+)'/.exec(error.details)?.[1];
  if (nodeId === undefined) return [];
  const classType = /node (.+?) does not exist/.exec(error.message)?.[1] ?? prompt?.[nodeId]?.class_type;
  const fix = classType
    ? `Node class "${classType}" is not installed on this ComfyUI server (a custom node that is missing or failed to load): install the node pack that provides it (e.g. with ComfyUI-Manager) and restart ComfyUI, or remove node ${nodeId}.`
    : `Give node ${nodeId} a "class_type": the prompt must be in API format (the editor's "Export (API)"), not the UI workflow format.`;
  return [{ nodeId, classType, inputName: undefined, type: 'invalid_prompt', message: error.message, details: error.details, fix }];
}

const TYPE_HINTS: Record<string, string> = {
  no_prompt: 'The request carried no prompt. Send an API-format prompt: {node id: {class_type, inputs}}.',
  invalid_prompt:
    'A node class is unknown to this server or a node has no class_type. Check installed nodes with object_info; install missing custom nodes and restart ComfyUI.',
  prompt_no_outputs:
    'The prompt has no output node (SaveImage, PreviewImage, ...), or partial_execution_targets named none. Add an output node or fix the targets.',
  prompt_outputs_failed_validation: 'Fix the inputs listed above and submit again; nothing was queued.',
};

/** The error a 400 from POST /prompt becomes. */
export function promptRejectedError(body: PromptRejectedBody, prompt?: ApiPrompt, url?: string): PromptRejectedError {
  const { error } = body;
  const problems = [...invalidPromptProblems(error, prompt), ...mapNodeErrors(body.node_errors, prompt)];
  const headline = `ComfyUI rejected the prompt (${error.type}): ${error.message || 'no message'}`;
  const details = problems.length === 0 && error.details && error.details !== error.message ? `: ${error.details}` : '';
  const explanation = problems.length ? `\n${explainProblems(problems)}` : '';
  return new PromptRejectedError(error.type, `${headline}${details}${explanation}`, problems, {
    hint: own(TYPE_HINTS, error.type) ?? 'Fix the prompt as the message says and submit again; nothing was queued.',
    context: { url, errorType: error.type, extraInfo: error.extra_info },
  });
}

/** A 400 from POST /prompt: ComfyUI's validation report, or (not ComfyUI's shape, e.g. a proxy) a plain HTTP error. */
export function rejectionFrom400(text: string, url: string, prompt?: ApiPrompt): ComfywireError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new ComfyHttpError('POST', url, 400, text);
  }
  const parsed = safeParse(PromptRejectedSchema, body);
  return parsed.success ? promptRejectedError(parsed.data, prompt, url) : new ComfyHttpError('POST', url, 400, text);
}
