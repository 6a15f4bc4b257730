/**
 * Reading a client's config file as JSONC (comments and trailing commas, as VS Code writes them):
 * a file that does not parse, or is not an object, is refused with its line and column, and left
 * untouched.
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { ConfigInvalidError, type ComfywireErrorOptions } from '../errors.js';

export type JsonObject = Record<string, unknown>;

/** A client config file we will not touch: not JSONC, or not the shape the client reads. */
export class ClientConfigInvalidError extends ConfigInvalidError {
  constructor(message: string, options: ComfywireErrorOptions = {}) {
    super(message, options);
    this.name = 'ClientConfigInvalidError';
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function locate(text: string, position: number): { line: number; column: number; lineText: string } {
  const before = text.slice(0, position);
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = text.indexOf('\n', position);
  return {
    line: before.split('\n').length,
    column: position - lineStart + 1,
    lineText: text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).trim(),
  };
}

/** Parses a config file's text; an empty file counts as `{}` (some clients create one). */
export function parseConfigText(text: string, file: string): JsonObject {
  if (text.trim() === '') return {};
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    const { line, column, lineText } = locate(text, first.offset);
    throw new ClientConfigInvalidError(`${file} is not valid JSON (line ${line}, column ${column}): ${printParseErrorCode(first.error)}`, {
      hint: `Fix the JSON near line ${line}${lineText ? ` ("${lineText.slice(0, 80)}")` : ''}, then run install again. The file was left untouched.`,
      context: { file, line, column },
    });
  }
  if (value === undefined) return {}; // comments only
  if (!isJsonObject(value)) {
    throw new ClientConfigInvalidError(`${file} holds JSON, but not an object at the top level.`, {
      hint: 'MCP clients expect an object such as {"mcpServers": {...}}; fix or move the file, then run install again.',
      context: { file },
    });
  }
  return value;
}

/** The value at `path`, or undefined. */
export function valueAt(doc: unknown, path: readonly string[]): unknown {
  let current = doc;
  for (const key of path) {
    if (!isJsonObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}
