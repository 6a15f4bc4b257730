import { McpError } from '@modelcontextprotocol/sdk/types.js';

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

/** A template variable as the SDK hands it over (string or, for exploded vars, string[]), decoded. */
export function variable(value: string | string[] | undefined, uri: string): string {
  const raw = Array.isArray(value) ? value.join(',') : value;
  if (raw === undefined || raw === '') throw notFound(uri, 'the URI is incomplete');
  try {
    return decodeURIComponent(raw);
  } catch {
    throw notFound(uri, 'the URI is not properly percent-encoded');
  }
}

export function notFound(uri: string, why: string): McpError {
  return new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}: ${why}`, { uri });
}
