import { KnownMessageSchemas, type ComfyEvent, type KnownMessageType } from './messages.js';

/**
 * Called for every frame that is dropped, with a short reason and facts for the log.
 * Decoding never throws: one bad frame from a custom node must not take the socket down.
 */
export type FrameReporter = (problem: string, details: Record<string, unknown>) => void;

/** How much of a dropped frame goes into the log (frames can be megabytes of traceback). */
export const FRAME_EXCERPT_CHARS = 200;
/** How many schema issues of a dropped frame are listed. */
const MAX_REPORTED_ISSUES = 5;

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
  const data = message['data'];
  if (!isKnownType(type)) return { type: 'unknown', data: { type, data } };

  const parsed = KnownMessageSchemas[type].safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, MAX_REPORTED_ISSUES)
      .map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`);
    report(`"${type}" message does not match its schema`, { type, issues, frame: excerpt(text) });
    return undefined;
  }
  // The schema was chosen by `type`, so the pair is consistent; TypeScript cannot correlate them.
  return { type, data: parsed.data } as ComfyEvent;
}

function isKnownType(type: string): type is KnownMessageType {
  return Object.hasOwn(KnownMessageSchemas, type);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The start of a frame, for logs. */
export function excerpt(text: string): string {
  return text.length <= FRAME_EXCERPT_CHARS ? text : `${text.slice(0, FRAME_EXCERPT_CHARS)}... (${text.length} chars)`;
}
