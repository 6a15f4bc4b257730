import { charCount, firstForbidden } from './controls.js';
import { excerpt } from './excerpt.js';
import type { Checked } from './text.js';

/**
 * Ids, names and paths from a caller: short, one line, no control character, and for ids and
 * folders a fixed alphabet. They are not NFC-normalised: each is compared as it is against what
 * ComfyUI or the disk lists (a checkpoint or a file name is bytes, and macOS keeps names in NFD).
 * Every message quotes at most a short escaped excerpt of what came.
 */

export interface IdentifierRule {
  /** What the caller should pass, as the message says it: "a prompt_id such as 3f2a…". */
  expected: string;
  maxChars: number;
  /** The whole value must match (after the length and control checks). */
  pattern?: RegExp;
  /** Said when the pattern does not match. */
  patternHint?: string;
}

/** ComfyUI's prompt ids are UUIDs; other clients pick their own, but none needs more than this. */
export const PROMPT_ID: IdentifierRule = {
  expected: 'a prompt_id such as 0f4c6f1e-2b7a-4d0a-9c1e-5b8d2a7c9e31 (from generate_image or get_queue)',
  maxChars: 128,
  // Ids name folders in the output folder: no separators, and not "." or "..".
  pattern: /^(?!\.+$)[A-Za-z0-9_.-]+$/,
  patternHint: 'letters, digits, "-", "_" and "."',
};

/** Template, sampler, scheduler and model names: as list_workflows / list_models show them. */
export const NAME: IdentifierRule = { expected: 'a name as list_workflows or list_models shows it', maxChars: 256 };

/** A model folder of ComfyUI (checkpoints, loras, vae…). */
export const FOLDER: IdentifierRule = {
  expected: 'a model folder such as "checkpoints" or "loras" (list_models without folder lists them)',
  maxChars: 64,
  pattern: /^(?!\.+$)[A-Za-z0-9_.-]+$/,
  patternHint: 'letters, digits, "-", "_" and "."',
};

/** A ComfyUI host's name, as the hosts file gives it or `host:port` (src/fleet/hosts.ts has the same rule). */
export const HOST_NAME: IdentifierRule = {
  expected: 'a ComfyUI host name such as gpu-2 or 10.0.0.2:8188 (get_system_stats lists them)',
  maxChars: 64,
  pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
  patternHint: 'letters, digits, ".", "_", ":" and "-", starting with a letter or digit',
};

/** A host tag from the hosts file (src/fleet/hosts.ts has the same rule). */
export const HOST_TAG: IdentifierRule = {
  expected: 'a host tag such as sdxl (the hosts file gives each host its tags)',
  maxChars: 64,
  pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  patternHint: 'letters, digits, ".", "_" and "-", starting with a letter or digit',
};

/** A local file path: long enough for any real path, short enough to quote. */
export const PATH: IdentifierRule = { expected: 'the path of a local file', maxChars: 1024 };

/** A template parameter name, as sidecars declare them (src/workflows/parameters.ts). */
export const PARAMETER_NAME: IdentifierRule = {
  expected: 'a parameter name as list_workflows shows it',
  maxChars: 64,
  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  patternHint: 'letters, digits and "_"',
};

/** `value` if it keeps the rule, else why not, beginning with `field`. */
export function checkIdentifier(raw: string, field: string, rule: IdentifierRule): Checked<string> {
  const refuse = (why: string): Checked<string> => ({ ok: false, problem: `${field} must be ${rule.expected}; ${why}` });
  if (raw.length === 0) return refuse('got an empty string.');
  if (charCount(raw) > rule.maxChars) return refuse(`got ${excerpt(raw, 24)}, over the ${rule.maxChars}-character limit.`);
  const bad = firstForbidden(raw, false);
  if (bad) return refuse(`got ${excerpt(raw)}, which contains ${bad.what} at index ${bad.index}.`);
  if (raw.trim() !== raw) return refuse(`got ${excerpt(raw)}, which starts or ends with whitespace.`);
  if (rule.pattern && !rule.pattern.test(raw)) return refuse(`got ${excerpt(raw)}; use only ${rule.patternHint ?? 'the characters it allows'}.`);
  return { ok: true, value: raw };
}
