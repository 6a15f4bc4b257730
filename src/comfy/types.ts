/**
 * Shapes shared by the HTTP client, the workflow layer and the simulator. Kept loose where
 * ComfyUI is loose (custom nodes add keys); zod schemas that check responses live in schemas.ts.
 */

/** One node of an API-format prompt. Inputs are constants or links `[sourceNodeId, outputIndex]`. */
export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string; [key: string]: unknown };
}

/** An API-format prompt: what ComfyUI executes, keyed by node id (always a string). */
export type ApiPrompt = Record<string, ApiNode>;

/** `[type, options?]`; `type` is a socket/widget type name or (legacy combo) a list of choices. */
export type InputSpec = [string | unknown[], Record<string, unknown>?] | [string | unknown[]];

/** One entry of GET /object_info. */
export interface NodeInfo {
  input: {
    required?: Record<string, InputSpec>;
    optional?: Record<string, InputSpec>;
    hidden?: Record<string, unknown>;
  };
  input_order?: { required?: string[]; optional?: string[]; hidden?: string[] };
  output: string[];
  output_is_list?: boolean[];
  output_name: string[];
  name: string;
  display_name?: string;
  description?: string;
  python_module?: string;
  category?: string;
  output_node: boolean;
  [key: string]: unknown;
}

export type ObjectInfo = Record<string, NodeInfo>;

export function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}
