/**
 * Maps a UI node's `widgets_values` onto API input names (protocol §7.3 step 3), skipping the
 * UI-only widgets (control_after_generate, combo filter, upload button) that share the array.
 */
import type { InputSpec, NodeInfo } from '../comfy/types.js';
import type { UiNode } from './ui-types.js';
import { extraWidgetSlots, findInputSpec, isWidgetSpec, orderedInputNames, specOptions, specType } from './input-spec.js';

const CONTROL_MODES = new Set(['fixed', 'increment', 'decrement', 'randomize', 'increment-wrap']);

/** Old files stored the number control as the boolean `true`; newer ones store a mode string. */
function looksLikeControl(value: unknown): boolean {
  return typeof value === 'boolean' || (typeof value === 'string' && CONTROL_MODES.has(value));
}

/** The server treats any JSON list as a link, so list-valued constants travel wrapped. */
export function wrapConstant(value: unknown): unknown {
  return Array.isArray(value) ? { __value__: value } : value;
}

/** Inputs of `info` that own a widget on this node, in widget order, with their specs. */
export function widgetInputs(node: UiNode, info: NodeInfo): Array<[string, InputSpec]> {
  // A custom widget type (not INT/FLOAT/...) is recognisable only by the node's own widget socket.
  const uiWidgetNames = new Set(
    (node.inputs ?? []).map((input) => input.widget?.name).filter((n): n is string => typeof n === 'string'),
  );
  const result: Array<[string, InputSpec]> = [];
  for (const name of orderedInputNames(info)) {
    const spec = findInputSpec(info, name);
    if (!spec) continue;
    const standardWidget = isWidgetSpec(spec);
    const customWidget = !standardWidget && uiWidgetNames.has(name) && specOptions(spec).forceInput !== true
      && !['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'].includes(specType(spec) ?? '');
    if (standardWidget || customWidget) result.push([name, spec]);
  }
  return result;
}

/** Number of `widgets_values` slots the node's widgets occupy, UI-only ones included. */
export function widgetSlotCount(node: UiNode, info: NodeInfo): number {
  return widgetInputs(node, info).reduce((sum, [name, spec]) => sum + 1 + extraWidgetSlots(name, spec), 0);
}

/** The constant inputs a node's widgets give, falling back to spec defaults for short arrays. */
export function widgetValues(node: UiNode, info: NodeInfo): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  const raw = node.widgets_values;
  const widgets = widgetInputs(node, info);

  if (raw && !Array.isArray(raw) && typeof raw === 'object') {
    // Some custom nodes save widgets keyed by name.
    for (const [name, spec] of widgets) {
      const value = Object.hasOwn(raw, name) ? (raw as Record<string, unknown>)[name] : specOptions(spec).default;
      if (value !== undefined) inputs[name] = wrapConstant(value);
    }
    return inputs;
  }

  const values = Array.isArray(raw) ? raw : [];
  let index = 0;
  for (const [name, spec] of widgets) {
    let value = index < values.length ? values[index] : undefined;
    index += 1;
    if (value === undefined || value === null) value = specOptions(spec).default;
    if (value !== undefined) inputs[name] = wrapConstant(value);

    const extra = extraWidgetSlots(name, spec);
    if (specType(spec) === 'COMBO') {
      index += extra;
    } else if (extra > 0 && looksLikeControl(values[index])) {
      // Only skip when the slot is really there: files saved without it keep their alignment.
      index += extra;
    }
  }
  return inputs;
}
