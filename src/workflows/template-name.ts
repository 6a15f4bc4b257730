/**
 * Names a caller may give a new template. Stricter than what the folder may hold (a person can
 * put `portraits/headshot.json` there by hand): one plain file name, the same on every OS, so
 * it can only ever land directly inside the workflows folder.
 */

export const TEMPLATE_NAME_MAX_CHARS = 64;

/** Letters, digits, "-" and "_", starting with a letter or digit: no separators, no dots, no spaces. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Windows device names: `nul.json` cannot be created there (and would confuse a later copy). */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/** The shown part of a refused name: a pasted document is not repeated whole. */
function shown(name: string): string {
  const text = JSON.stringify(name);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** Why `name` cannot be a new template's name, or undefined when it can. */
export function templateNameProblem(name: string): string | undefined {
  const rule = `a template name is 1-${TEMPLATE_NAME_MAX_CHARS} letters, digits, "-" or "_", starting with a letter or digit, e.g. "fox-portrait"`;
  if (name.length === 0) return `The name is empty; ${rule}.`;
  if (name.length > TEMPLATE_NAME_MAX_CHARS) return `The name ${shown(name)} is ${name.length} characters long; ${rule}.`;
  if (/[/\\]/.test(name)) return `The name ${shown(name)} contains a path separator; templates are saved directly in the workflows folder, so ${rule}.`;
  if (name.includes('.')) return `The name ${shown(name)} contains a dot; leave out ".json" (it is added), as ${rule}.`;
  if (!NAME_PATTERN.test(name)) return `The name ${shown(name)} has characters a template name cannot have; ${rule}.`;
  if (RESERVED.test(name)) return `The name ${shown(name)} is reserved on Windows (a device name); choose another, e.g. "${name}-workflow".`;
  return undefined;
}
