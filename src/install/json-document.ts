/**
 * Reading, merging and re-printing a client's JSON config without losing what others put there:
 * objects merge key by key (existing keys keep their order), arrays and scalars are replaced,
 * and the file keeps its indentation and final newline.
 */
import { ConfigInvalidError, type ComfywireErrorOptions } from '../errors.js';

export type JsonObject = Record<string, unknown>;

/** A client config file we will not touch: not JSON, or not the shape the client reads. */
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
  const clean = text.replace(/^\uFEFF/, '');
  if (clean.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(clean);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const match = /position (\d+)/.exec(reason);
    const { line, column, lineText } = locate(clean, match ? Number(match[1]) : clean.length);
    // VS Code's mcp.json is JSONC; comments are the likeliest reason a real file fails here.
    const comment = /^(\/\/|\/\*)/.test(lineText) || /(^|[^:"])\/\/|\/\*/.test(clean);
    throw new ClientConfigInvalidError(`${file} is not valid JSON (line ${line}, column ${column}): ${reason}`, {
      cause,
      hint:
        (comment
          ? 'The file seems to contain comments or trailing commas, which comfywire does not rewrite, to avoid losing them. '
          : `Fix the JSON near line ${line}${lineText ? ` ("${lineText.slice(0, 80)}")` : ''}, then run install again. `) +
        'The file was left untouched.',
      context: { file, line, column },
    });
  }
  if (!isJsonObject(value)) {
    throw new ClientConfigInvalidError(`${file} holds JSON, but not an object at the top level.`, {
      hint: 'MCP clients expect an object such as {"mcpServers": {...}}; fix or move the file, then run install again.',
      context: { file },
    });
  }
  return value;
}

/** `patch` merged into `base` without mutating either; `patch` wins on conflicts. */
export function deepMerge(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isJsonObject(current) && isJsonObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** The indentation the file already uses (two spaces when it has none to copy). */
export function detectIndent(text: string): string | number {
  const match = /^[{[][^\n]*\n([ \t]+)\S/m.exec(text.replace(/^\uFEFF/, ''));
  return match?.[1] ?? 2;
}

export function formatConfig(doc: JsonObject, indent: string | number): string {
  return `${JSON.stringify(doc, null, indent)}\n`;
}
