import type { ApiPrompt, InputSpec, ObjectInfo } from '../comfy/types.js';
import type { NodeImpl } from './nodes/types.js';
import { pyFloat, pyIntText, pyRepr, pyStr, pyTypeName } from './py-format.js';

/** One entry of node_errors[id].errors. */
export interface NodeError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface Validated {
  valid: boolean;
  errors: NodeError[];
}

/** A Python exception escaping validation (KeyError for a link to a missing node...). */
export class PyException extends Error {
  constructor(readonly pyType: string, readonly text: string) {
    super(text);
    this.name = 'PyException';
  }
}

export const FAKE_TRACEBACK = ['  File "<simulator>/validation.py", line 1, in validate_inputs\n    <source line omitted>\n'];

export interface InputValidationContext {
  prompt: ApiPrompt;
  objectInfo: ObjectInfo;
  impls: Readonly<Record<string, NodeImpl>>;
  files: Parameters<NonNullable<NodeImpl['validateInputs']>['check']>[1];
  validated: Map<string, Validated>;
}

/** ComfyUI's validate_node_input: exact match, '*', or overlapping comma-separated unions. */
export function typesCompatible(received: unknown, input: unknown): boolean {
  if (received === input) return true;
  if (typeof received !== 'string' || typeof input !== 'string') return false;
  const r = new Set(received.split(',').map((t) => t.trim()));
  const i = new Set(input.split(',').map((t) => t.trim()));
  if (r.has('*') || i.has('*')) return true;
  return [...r].some((t) => i.has(t));
}

/** int()/float()/str()/bool() as Python would apply them; throws with Python's message. */
function convert(type: unknown, val: unknown): unknown {
  if (type === 'INT') {
    if (typeof val === 'boolean') return val ? 1 : 0;
    if (typeof val === 'number') return Math.trunc(val);
    if (typeof val === 'string') {
      const n = pyIntText(val);
      if (n === undefined) throw new Error(`invalid literal for int() with base 10: ${pyRepr(val)}`);
      return n;
    }
    throw new Error(`int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(val)}'`);
  }
  if (type === 'FLOAT') {
    const n = pyFloat(val);
    if (n !== undefined) return n;
    if (typeof val === 'string') throw new Error(`could not convert string to float: ${pyRepr(val)}`);
    throw new Error(`float() argument must be a string or a real number, not '${pyTypeName(val)}'`);
  }
  if (type === 'STRING') return typeof val === 'string' ? val : pyStr(val);
  if (type === 'BOOLEAN') return Boolean(val) && !(typeof val === 'object' && val !== null && Object.keys(val).length === 0);
  return val;
}

function specParts(spec: InputSpec): [unknown, Record<string, unknown>] {
  return [spec[0], (spec[1] as Record<string, unknown> | undefined) ?? {}];
}

/** validate_inputs for one node, memoized in ctx.validated; may throw PyException. */
export function validateNode(ctx: InputValidationContext, id: string): Validated {
  const done = ctx.validated.get(id);
  if (done) return done;
  const node = ctx.prompt[id];
  if (!node) throw new PyException('KeyError', pyRepr(id));
  const info = ctx.objectInfo[node.class_type];
  if (!info) throw new PyException('KeyError', pyRepr(node.class_type));
  // prompt[id]['inputs']: a node without the key is a KeyError, not an empty input set.
  if (!('inputs' in node)) throw new PyException('KeyError', pyRepr('inputs'));
  const inputs = node.inputs;
  const custom = ctx.impls[node.class_type]?.validateInputs;
  const customNames = custom?.inputs ?? [];
  const errors: NodeError[] = [];
  let valid = true;
  const names = [...Object.keys(info.input.required ?? {}), ...Object.keys(info.input.optional ?? {})];
  for (const x of names) {
    const required = info.input.required?.[x];
    const spec = (required ?? info.input.optional?.[x]) as InputSpec;
    const [inputType, extra] = specParts(spec);
    const config = [inputType, extra];
    if (!(x in inputs)) {
      if (required) errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: x, extra_info: { input_name: x } });
      continue;
    }
    let val = inputs[x];
    if (Array.isArray(val)) {
      if (val.length !== 2) {
        errors.push({ type: 'bad_linked_input', message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]', details: x, extra_info: { input_name: x, input_config: config, received_value: val } });
        continue;
      }
      const [sourceId, slot] = val as [unknown, unknown];
      const source = typeof sourceId === 'string' ? ctx.prompt[sourceId] : undefined;
      if (!source) throw new PyException('KeyError', pyRepr(sourceId));
      const returnTypes = ctx.objectInfo[source.class_type]?.output ?? [];
      // RETURN_TYPES[val[1]]: bool is an int in Python (True is 1); other non-ints are a TypeError.
      const index = typeof slot === 'boolean' ? Number(slot) : slot;
      if (typeof index !== 'number' || !Number.isInteger(index)) {
        throw new PyException('TypeError', `tuple indices must be integers or slices, not ${pyTypeName(slot)}`);
      }
      if (index >= returnTypes.length || index < -returnTypes.length) throw new PyException('IndexError', 'tuple index out of range');
      const receivedType = returnTypes.at(index);
      if (!typesCompatible(receivedType, inputType)) {
        errors.push({
          type: 'return_type_mismatch', message: 'Return type mismatch between linked nodes',
          details: `${x}, received_type(${pyStr(receivedType)}) mismatch input_type(${pyStr(inputType)})`,
          extra_info: { input_name: x, input_config: config, received_type: receivedType, linked_node: val },
        });
        continue;
      }
      try {
        if (!validateNode(ctx, sourceId as string).valid) valid = false;
      } catch (ex) {
        const e = ex instanceof PyException ? ex : new PyException('Exception', String(ex));
        const reasons: NodeError[] = [{
          type: 'exception_during_inner_validation', message: 'Exception when validating inner node', details: e.text,
          extra_info: { input_name: x, input_config: config, exception_message: e.text, exception_type: e.pyType, traceback: FAKE_TRACEBACK, linked_node: val },
        }];
        ctx.validated.set(sourceId as string, { valid: false, errors: reasons });
      }
      continue;
    }
    if (val !== null && typeof val === 'object' && '__value__' in val) {
      val = (val as { __value__: unknown }).__value__;
      inputs[x] = val;
    }
    try {
      val = convert(inputType, val);
      inputs[x] = val;
    } catch (ex) {
      const msg = (ex as Error).message;
      errors.push({
        type: 'invalid_input_type', message: `Failed to convert an input value to a ${pyStr(inputType)} value`,
        details: `${x}, ${pyStr(val)}, ${msg}`, extra_info: { input_name: x, input_config: config, received_value: val, exception_message: msg },
      });
      continue;
    }
    if (customNames.includes(x)) continue;
    if (typeof extra.min === 'number' && typeof val === 'number' && val < extra.min) {
      errors.push({ type: 'value_smaller_than_min', message: `Value ${val} smaller than min of ${extra.min}`, details: x, extra_info: { input_name: x, input_config: config, received_value: val } });
      continue;
    }
    if (typeof extra.max === 'number' && typeof val === 'number' && val > extra.max) {
      errors.push({ type: 'value_bigger_than_max', message: `Value ${val} bigger than max of ${extra.max}`, details: x, extra_info: { input_name: x, input_config: config, received_value: val } });
      continue;
    }
    if (Array.isArray(inputType) && !inputType.includes(val)) {
      const long = inputType.length > 20;
      const listInfo = long ? `(list of length ${inputType.length})` : pyStr(inputType);
      errors.push({
        type: 'value_not_in_list', message: 'Value not in list', details: `${x}: '${pyStr(val)}' not in ${listInfo}`,
        extra_info: { input_name: x, input_config: long ? null : config, received_value: val },
      });
    }
  }
  if (custom) {
    const result = custom.check(inputs, ctx.files);
    if (result !== true) {
      const x = customNames[customNames.length - 1] as string;
      const spec = (info.input.required?.[x] ?? info.input.optional?.[x]) as InputSpec;
      errors.push({
        type: 'custom_validation_failed', message: 'Custom validation failed for node', details: `${x} - ${result}`,
        extra_info: { input_name: x, input_config: specParts(spec), received_value: inputs[x] },
      });
    }
  }
  const result = { valid: valid && errors.length === 0, errors };
  ctx.validated.set(id, result);
  return result;
}
