/**
 * The one input policy, applied at every edge (MCP tool arguments and `params`, the CLI flags,
 * resource URIs, prompt arguments): text is NFC-normalised and refused with the position of a
 * control character; ids, names and paths are length-capped and pattern-checked; errors quote a
 * short escaped excerpt; lookups by a caller's key read own properties only.
 */
export { charCount, firstForbidden, type ForbiddenChar } from './controls.js';
export { capText, excerpt, EXCERPT_CHARS } from './excerpt.js';
export { checkText, type Checked, type TextRule } from './text.js';
export { checkIdentifier, FOLDER, HOST_NAME, HOST_TAG, NAME, PARAMETER_NAME, PATH, PROMPT_ID, type IdentifierRule } from './identifiers.js';
export { nullRecord, own } from './own.js';
export { identifierField, jsonObjectField, paramsField, textField, type ParamValue } from './fields.js';
