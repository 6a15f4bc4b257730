import { randomUUID } from 'node:crypto';

/**
 * One line of the call log: a tool call or a CLI job, as it ended. The same record goes to the
 * file (one JSON line) and to PostgreSQL (one row); `id` makes a retried insert harmless.
 */

/** How a call ended. A job handed back as a handle is `queued`; its end is logged again later. */
export const CALL_STATUSES = ['queued', 'success', 'error', 'interrupted', 'cancelled', 'timed-out', 'refused', 'lost'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export interface CallRecord {
  /** Unique per line: the PostgreSQL sink inserts with ON CONFLICT DO NOTHING on it, so a retry never duplicates. */
  id: string;
  /** ISO 8601, UTC. */
  time: string;
  /** The MCP tool name, or "cli:<command>". */
  tool: string;
  status: CallStatus;
  workflow?: string;
  /** At most PROMPT_CHARS characters of the prompt: the log must not grow with what a caller sends. */
  prompt?: string;
  prompt_id?: string;
  /** ComfyUI's URL without credentials. */
  host?: string;
  duration_ms: number;
  /** ComfywireError.code when the call failed with one. */
  error_code?: string;
}

export const PROMPT_CHARS = 200;
/** Every other free-text field (tool, workflow, prompt_id, host, code) is cut at this length. */
export const FIELD_CHARS = 200;

export function isCallStatus(value: unknown): value is CallStatus {
  return typeof value === 'string' && (CALL_STATUSES as readonly string[]).includes(value);
}

export function truncate(text: string, max: number): string {
  // Cut on a code point boundary, so a surrogate pair is never split into a lone half.
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

/** The URL as it can be shown and stored: user and password dropped, and nothing past the host. */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid URL)';
  }
}

export interface CallFields {
  tool: string;
  status: CallStatus;
  durationMs: number;
  workflow?: unknown;
  prompt?: unknown;
  promptId?: unknown;
  host?: string | undefined;
  errorCode?: string | undefined;
}

/** A record from what a caller knows; anything not a string is left out, every string is bounded. */
export function callRecord(fields: CallFields, now: number = Date.now()): CallRecord {
  const record: CallRecord = {
    id: randomUUID(),
    time: new Date(now).toISOString(),
    tool: truncate(fields.tool, FIELD_CHARS),
    status: fields.status,
    duration_ms: Math.max(0, Math.round(fields.durationMs)),
  };
  if (typeof fields.workflow === 'string') record.workflow = truncate(fields.workflow, FIELD_CHARS);
  if (typeof fields.prompt === 'string') record.prompt = truncate(fields.prompt, PROMPT_CHARS);
  if (typeof fields.promptId === 'string') record.prompt_id = truncate(fields.promptId, FIELD_CHARS);
  if (fields.host !== undefined) record.host = truncate(hostOf(fields.host), FIELD_CHARS);
  if (fields.errorCode !== undefined) record.error_code = truncate(fields.errorCode, FIELD_CHARS);
  return record;
}
