import { forbiddenReason } from './controls.js';

/**
 * What an error may quote of what it received: a short, escaped excerpt. Whatever a caller sends
 * (a 1 MB prompt, a 70,000-character id, ANSI escapes), the text that comes back stays short and
 * shows no raw control character.
 */

/** Characters of the original an excerpt shows at most. */
export const EXCERPT_CHARS = 60;

/** One code point as it may appear inside a JSON string literal shown to a person. */
function escapeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  // JSON.stringify escapes C0 controls, quotes and lone surrogates, but not C1, DEL, bidi
  // controls or the line separators: those are escaped here too.
  if (forbiddenReason(cp, false) !== undefined || cp === 0x2028 || cp === 0x2029) {
    if (ch === '\n') return '\\n';
    if (ch === '\t') return '\\t';
    return `\\u${cp.toString(16).padStart(4, '0')}`;
  }
  if (ch === '"') return '\\"';
  if (ch === '\\') return '\\\\';
  return ch;
}

/** The first `max` characters of `text`, escaped, and how many characters it had. */
function escapedHead(text: string, max: number, escapeQuotes: boolean): { head: string; total: number; cut: boolean } {
  let head = '';
  let total = 0;
  for (const ch of text) {
    if (total < max) head += escapeQuotes || (ch !== '"' && ch !== '\\') ? escapeChar(ch) : ch;
    total += 1;
  }
  return { head, total, cut: total > max };
}

/** Any received value, short: strings quoted and escaped, other values as JSON, cut after `max` characters. */
export function excerpt(value: unknown, max = EXCERPT_CHARS): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const isText = typeof value === 'string';
  let text: string;
  if (isText) text = value;
  else {
    try {
      text = JSON.stringify(value) ?? `a ${typeof value}`;
    } catch {
      return `a ${typeof value}`;
    }
  }
  // JSON text is already escaped: only the characters JSON leaves raw are escaped again.
  const { head, total, cut } = escapedHead(text, max, isText);
  const shown = isText ? `"${head}${cut ? '…' : ''}"` : `${head}${cut ? '…' : ''}`;
  return cut ? `${shown} (${total} characters)` : shown;
}

/** Any text bounded to `max` characters, for the last line of defence at the edges. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  // Never end on half a surrogate pair.
  const safe = /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
  return `${safe}… (cut: ${text.length} characters in all)`;
}
