import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { checkIdentifier, excerpt, type IdentifierRule } from '../../input-policy/index.js';

/** Resource URIs this server serves, and the helpers that build and read their variable parts. */

export const WORKFLOW_TEMPLATE = 'comfywire://workflows/{name}';
export const OUTPUT_TEMPLATE = 'comfywire://outputs/{prompt_id}/{file}';
export const JOB_TEMPLATE = 'comfywire://jobs/{prompt_id}';

/** MCP's "resource not found" code (not in the SDK's ErrorCode enum in 1.32). */
export const RESOURCE_NOT_FOUND = -32002;

/**
 * One URI segment. encodeURIComponent leaves `,` alone, but the SDK's `{var}` matcher stops at
 * commas, so it is encoded too; `/` in a template name (sub-folders) becomes %2F.
 */
export function uriPart(value: string): string {
  return encodeURIComponent(value).replace(/,/g, '%2C');
}

export function jobUri(promptId: string): string {
  return `comfywire://jobs/${uriPart(promptId)}`;
}

export function workflowUri(name: string): string {
  return `comfywire://workflows/${uriPart(name)}`;
}

/**
 * A template variable as the SDK hands it over (string or, for exploded vars, string[]),
 * decoded and held to the input policy's rule for what it names (an id, a name, a path).
 */
export function variable(value: string | string[] | undefined, uri: string, name: string, rule: IdentifierRule): string {
  const raw = Array.isArray(value) ? value.join(',') : value;
  if (raw === undefined || raw === '') throw notFound(uri, 'the URI is incomplete');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw notFound(uri, 'the URI is not properly percent-encoded');
  }
  const checked = checkIdentifier(decoded, name, rule);
  if (!checked.ok) throw notFound(uri, checked.problem);
  return checked.value;
}

/** Longer URIs are quoted as an excerpt: an error never repeats a caller's input whole. */
const MAX_QUOTED_URI = 200;

export function shortUri(uri: string): string {
  return uri.length <= MAX_QUOTED_URI ? uri : excerpt(uri, MAX_QUOTED_URI / 2);
}

export function notFound(uri: string, why: string): McpError {
  const shown = shortUri(uri);
  return new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${shown}: ${why}`, { uri: shown });
}
