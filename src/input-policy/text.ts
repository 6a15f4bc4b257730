import { charCount, firstForbidden } from './controls.js';

/**
 * Free text from a caller (a prompt, a negative prompt, a text parameter of a template): refused
 * when it carries a control character other than newline and tab, said where; otherwise
 * normalised to NFC (a composed "é" and "e" + combining accent are the same prompt, and CLIP
 * tokenises them differently) and measured after that, in characters.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface TextRule {
  /** The key or flag the text came in, named first in every message. */
  field: string;
  /** Most characters (code points) after NFC normalisation. */
  maxChars: number;
  /** Refuse empty and whitespace-only text (a positive prompt must say something). */
  required?: boolean;
}

export function checkText(raw: string, rule: TextRule): Checked<string> {
  const bad = firstForbidden(raw);
  if (bad) {
    return {
      ok: false,
      problem:
        `${rule.field} contains ${bad.what} at index ${bad.index} (counting characters from 0); only newline and tab are ` +
        'allowed. Remove it and send plain text.',
    };
  }
  const value = raw.normalize('NFC');
  if (rule.required && value.trim() === '') {
    return {
      ok: false,
      problem: `${rule.field} is ${value === '' ? 'empty' : 'only whitespace'}. Describe the image to generate (subject, style, lighting, composition).`,
    };
  }
  const length = charCount(value);
  if (length > rule.maxChars) {
    return {
      ok: false,
      problem:
        `${rule.field} is ${length} characters; the limit is ${rule.maxChars}. ` +
        'Shorten it to the description of the image (subject, style, lighting, composition).',
    };
  }
  return { ok: true, value };
}
