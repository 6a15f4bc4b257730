import type { z } from 'zod';
import { nullRecord } from '../input-policy/index.js';
import { GenerateRequestSchema } from './request-schema.js';

/**
 * What a caller asks to generate, as validated by GenerateRequestSchema: the CLI `generate`
 * command and the MCP `generate_image` tool both build one under the template parameter names.
 */
export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;

/** The named fields that carry a parameter value (workflow says which template; input_image is uploaded first). */
const VALUE_KEYS = Object.keys(GenerateRequestSchema.shape).filter((k) => !['workflow', 'input_image', 'params'].includes(k)) as Array<keyof GenerateRequest>;

/**
 * The request's values by template parameter name; `params` wins over a named field. A record
 * without prototype: a params key such as "__proto__" is an entry like any other (and refused
 * as an unknown parameter), never the object's prototype.
 */
export function requestValues(req: GenerateRequest): Record<string, unknown> {
  const values = nullRecord<unknown>();
  for (const k of VALUE_KEYS) if (req[k] !== undefined) values[k] = req[k];
  for (const [k, v] of Object.entries(req.params ?? {})) if (v !== undefined) values[k] = v;
  return values;
}
