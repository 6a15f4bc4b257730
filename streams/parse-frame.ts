import { checkMessage, type ComfyEvent } from './messages.js';

/**
 * Called for every frame that is dropped, with a short reason and facts for the log.
 * Decoding never throws: one bad frame from a custom node must not take the socket down.
 */
export type FrameReporter = (problem: string, details: Record<string, unknown>) => void;

/** How much of a dropped frame goes into the log (frames can be megabytes of traceback). */
export const FRAME_EXCERPT_CHARS = 200;

const ignore: FrameReporter = () => {};

/**
 * One WebSocket text frame (`{"type": ..., "data": ...}`) -> ComfyEvent.
 * Known types are validated with their schema (defaults applied); unknown types pass through as
 * `{type: 'unknown', data: {type, data}}` because custom nodes send their own; anything else
 * (not JSON, no type, a known type whose data does not fit) is reported and returns undefined.
 */
export function parseFrame(text: string, report: FrameReporter = ignore): ComfyEvent | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    report('text frame is not valid JSON', { error: (error as Error).message, frame: excerpt(text) });
    return undefined;
  }
  if (!isRecord(message) || typeof message['type'] !== 'string' || message['type'] === '') {
    report('text frame has no "type" string', { frame: excerpt(text) });
    return undefined;
  }
  const type = message['type'];
  const checked = checkMessage(type, message['data']);
  if ('issues' in checked) {
    report(`"${type}" message does not match its schema`, { type, issues: checked.issues, frame: excerpt(text) });
    return undefined;
  }
  return checked.event;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The start of a frame, for logs. */
export function excerpt(text: string): string {
  return text.length <= FRAME_EXCERPT_CHARS ? text : `${text.slice(0, FRAME_EXCERPT_CHARS)}... (${text.length} chars)`;
}
