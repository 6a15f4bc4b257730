/**
 * The characters no text from a caller may carry: they are invisible in a terminal or an editor
 * yet change what the reader sees (ANSI escape sequences repaint a terminal, bidi overrides reorder
 * a line: "Trojan Source", CVE-2021-42574), or they break the JSON and C strings text passes
 * through on its way to ComfyUI (NUL, lone surrogates). Newline and tab are the only controls a
 * prompt needs.
 */

export interface ForbiddenChar {
  /** Position in the text as sent, counted in characters (code points) from 0. */
  index: number;
  codePoint: number;
  /** What it is, for the message: "U+001B ESC, which starts a terminal escape sequence". */
  what: string;
}

const C0_NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x07: 'BEL',
  0x08: 'BS',
  0x0b: 'VT',
  0x0c: 'FF',
  0x0d: 'CR (use a plain newline for line breaks)',
  0x1b: 'ESC, which starts a terminal escape sequence',
  0x7f: 'DEL',
};

const BIDI_NAMES: Record<number, string> = {
  0x202a: 'LRE', 0x202b: 'RLE', 0x202c: 'PDF', 0x202d: 'LRO', 0x202e: 'RLO',
  0x2066: 'LRI', 0x2067: 'RLI', 0x2068: 'FSI', 0x2069: 'PDI',
};

export const codePointLabel = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why a code point is refused, or undefined when it is allowed (`allowLayout`: newline and tab). */
export function forbiddenReason(cp: number, allowLayout: boolean): string | undefined {
  if (cp === 0x0a || cp === 0x09) return allowLayout ? undefined : cp === 0x0a ? 'a newline' : 'a tab';
  if (cp < 0x20 || cp === 0x7f) return `a control character (${codePointLabel(cp)}${C0_NAMES[cp] !== undefined ? ` ${C0_NAMES[cp]}` : ''})`;
  if (cp >= 0x80 && cp <= 0x9f) return `a C1 control character (${codePointLabel(cp)})`;
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
    return `a bidirectional control (${codePointLabel(cp)} ${BIDI_NAMES[cp]!}, which reorders how text is displayed)`;
  }
  if (cp >= 0xd800 && cp <= 0xdfff) return `a lone surrogate (${codePointLabel(cp)}, half of a UTF-16 pair without its other half)`;
  return undefined;
}

/** The first refused character of `text`, with its index in code points. */
export function firstForbidden(text: string, allowLayout = true): ForbiddenChar | undefined {
  let index = 0;
  // for..of walks code points: a well-formed pair is one character, a lone half stays alone.
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const what = forbiddenReason(cp, allowLayout);
    if (what !== undefined) return { index, codePoint: cp, what };
    index += 1;
  }
  return undefined;
}

/** Length in characters (code points), the unit every limit and position here is given in. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}
