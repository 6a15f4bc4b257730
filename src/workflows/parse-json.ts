/** JSON.parse with a message a person can act on: file, line, column and the offending line. */
import { WorkflowInvalidError } from '../errors.js';

function lineAndColumn(text: string, position: number): { line: number; column: number; lineText: string } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = text.indexOf('\n', lineStart);
  return { line, column: position - lineStart + 1, lineText: text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd) };
}

export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // V8 reports "at position N" (and newer versions "(line L column C)"); end of input has neither.
    const match = /position (\d+)/.exec(reason);
    const position = match ? Number(match[1]) : text.length;
    const { line, column, lineText } = lineAndColumn(text, Math.min(position, text.length));
    const shown = lineText.trim().length > 120 ? `${lineText.trim().slice(0, 120)}…` : lineText.trim();
    return fail(file, line, column, reason, shown, error);
  }
}

function fail(file: string, line: number, column: number, reason: string, lineText: string, cause: unknown): never {
  throw new WorkflowInvalidError(`${file} is not valid JSON at line ${line}, column ${column}: ${reason}`, {
    hint: `Fix the JSON near line ${line}, column ${column}${lineText ? ` ("${lineText}")` : ''}: ` +
      'look for a missing or trailing comma, an unquoted key, single quotes or an unclosed bracket. ' +
      'Re-exporting the workflow from ComfyUI also gives valid JSON.',
    cause,
    context: { file, line, column },
  });
}
