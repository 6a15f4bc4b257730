/**
 * Minimal, reversible edits of a JSONC document (a client's config file): set one member, remove
 * one member, append one array element. Every byte outside the edited member stays as it was,
 * comments included, and removing what `setMember`/`appendElement` inserted gives back the text
 * they started from.
 *
 * Why not jsonc-parser's `modify`: with formatting options it re-formats whole lines around the
 * edit (a one-line sibling `"a": { "command": "x" }` comes back spread over four lines), and its
 * delete runs from the previous member's end, taking that member's trailing `// comment` with it.
 * jsonc-parser still does the parsing (`parseTree`) and applies the edits (`applyEdits`).
 */
import { applyEdits, findNodeAtLocation, parseTree, type Edit, type JSONPath, type Node } from 'jsonc-parser';

export interface Layout {
  eol: string;
  /** One level of indentation. */
  unit: string;
}

/** The file's own line ending and indentation unit (two spaces when it has nothing to copy). */
export function layoutOf(text: string): Layout {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indents = [...text.matchAll(/\n([ \t]+)["{[\]}\d/tfn-]/g)].map((m) => m[1]!);
  const tab = indents.find((i) => i.startsWith('\t'));
  const spaces = indents.filter((i) => !i.startsWith('\t')).map((i) => i.length);
  const unit = tab ? '\t' : spaces.length ? ' '.repeat(Math.max(1, Math.min(...spaces))) : '  ';
  return { eol, unit };
}

const tree = (text: string): Node | undefined => parseTree(text, [], { allowTrailingComma: true });

/** Whitespace and comments from `pos` on: the offset of the next significant character. */
function skipTrivia(text: string, pos: number): number {
  for (;;) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (text.startsWith('//', pos)) {
      while (pos < text.length && text[pos] !== '\n' && text[pos] !== '\r') pos++;
    } else if (text.startsWith('/*', pos)) {
      const close = text.indexOf('*/', pos + 2);
      pos = close === -1 ? text.length : close + 2;
    } else {
      return pos;
    }
  }
}

function lineStart(text: string, pos: number): number {
  return Math.max(text.lastIndexOf('\n', pos - 1) + 1, 0);
}

/** The indentation before `pos` when nothing else precedes it on its line. */
function ownIndent(text: string, pos: number): string | undefined {
  const before = text.slice(lineStart(text, pos), pos);
  return /^[ \t]*$/.test(before) ? before : undefined;
}

/** The leading whitespace of the line holding `pos`. */
function lineIndent(text: string, pos: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, pos)))![0];
}

/** Start of the line break that precedes the line holding `pos`. */
function breakBefore(text: string, pos: number): number {
  const start = lineStart(text, pos);
  return text[start - 2] === '\r' ? start - 2 : start - 1;
}

function formatValue(value: unknown, indent: string, layout: Layout): string {
  return JSON.stringify(value, null, layout.unit).split('\n').join(layout.eol + indent);
}

const members = (container: Node): Node[] => container.children ?? [];
const isMultiLine = (text: string, node: Node) => /[\r\n]/.test(text.slice(node.offset, node.offset + node.length));

/** The comma right after `node`, if the next significant character is one. */
function commaAfter(text: string, node: Node): number | undefined {
  const next = skipTrivia(text, node.offset + node.length);
  return text[next] === ',' ? next : undefined;
}

/** Inserts `member` (`"key": value` or a bare value) as the container's last member. */
function insertMember(text: string, container: Node, render: (indent: string) => string, compact: string, layout: Layout): Edit[] {
  const open = container.offset;
  const close = container.offset + container.length - 1;
  const baseIndent = lineIndent(text, open);
  const list = members(container);
  if (list.length === 0) {
    const childIndent = baseIndent + layout.unit;
    if (/^\s*$/.test(text.slice(open + 1, close))) {
      return [{ offset: open + 1, length: close - open - 1, content: `${layout.eol}${childIndent}${render(childIndent)}${layout.eol}${baseIndent}` }];
    }
    // Only comments inside: the member goes on its own line just before the closing bracket.
    if (ownIndent(text, close) !== undefined) {
      return [{ offset: lineStart(text, close), length: 0, content: `${childIndent}${render(childIndent)}${layout.eol}` }];
    }
    return [{ offset: close, length: 0, content: `${layout.eol}${childIndent}${render(childIndent)}${layout.eol}${baseIndent}` }];
  }
  const last = list[list.length - 1]!;
  const lastEnd = last.offset + last.length;
  const trailingComma = commaAfter(text, last);
  if (!isMultiLine(text, container)) {
    // A one-line container stays on one line.
    return trailingComma === undefined
      ? [{ offset: lastEnd, length: 0, content: `, ${compact}` }]
      : [{ offset: trailingComma + 1, length: 0, content: ` ${compact},` }];
  }
  const childIndent = ownIndent(text, last.offset) ?? baseIndent + layout.unit;
  const anchor = trailingComma === undefined ? lastEnd : trailingComma + 1;
  // After a trailing `// comment` on the last member's line, so the comment stays with its member.
  const lineEnd = text.slice(anchor).search(/\r?\n|$/) + anchor;
  const restOfLine = text.slice(anchor, lineEnd);
  const at = /^[ \t]*(\/\/.*)?$/.test(restOfLine) ? lineEnd : anchor;
  const edits: Edit[] = [];
  if (trailingComma === undefined) edits.push({ offset: lastEnd, length: 0, content: ',' });
  edits.push({ offset: at, length: 0, content: `${layout.eol}${childIndent}${render(childIndent)}${trailingComma === undefined ? '' : ','}` });
  return edits;
}

/** Removes one member, the inverse of `insertMember` for what it inserted. */
function removeMemberEdits(text: string, container: Node, index: number): Edit[] {
  const list = members(container);
  const node = list[index]!;
  const ownComma = commaAfter(text, node);
  const end = ownComma === undefined ? node.offset + node.length : ownComma + 1;
  const startsLine = ownIndent(text, node.offset) !== undefined;
  if (index < list.length - 1) {
    const next = list[index + 1]!;
    const from = startsLine && ownIndent(text, next.offset) !== undefined ? lineStart(text, node.offset) : node.offset;
    const to = from === node.offset ? next.offset : lineStart(text, next.offset);
    return [{ offset: from, length: to - from, content: '' }];
  }
  if (index === 0) {
    const open = container.offset;
    const close = container.offset + container.length - 1;
    if (/^\s*$/.test(text.slice(open + 1, node.offset)) && /^\s*$/.test(text.slice(end, close))) {
      return [{ offset: open + 1, length: close - open - 1, content: '' }];
    }
    if (startsLine) {
      const lineEnd = text.slice(end).search(/\n|$/) + end;
      const to = /^[ \t]*\r?$/.test(text.slice(end, lineEnd)) && lineEnd < text.length ? lineEnd + 1 : end;
      return [{ offset: lineStart(text, node.offset), length: to - lineStart(text, node.offset), content: '' }];
    }
    return [{ offset: node.offset, length: end - node.offset, content: '' }];
  }
  const previous = list[index - 1]!;
  const comma = commaAfter(text, previous)!;
  if (ownComma !== undefined) {
    // Trailing-comma style: the previous member keeps its comma.
    const from = startsLine ? breakBefore(text, node.offset) : comma + 1;
    return [{ offset: from, length: end - from, content: '' }];
  }
  if (!startsLine || /^\s*$/.test(text.slice(comma + 1, node.offset))) return [{ offset: comma, length: end - comma, content: '' }];
  const from = breakBefore(text, node.offset);
  return [
    { offset: comma, length: 1, content: '' },
    { offset: from, length: end - from, content: '' },
  ];
}

function nest(keys: string[], value: unknown): unknown {
  return keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

/** The parents of `path`'s last key from index `from` on: the containers a set there creates. */
function containersFrom(path: string[], from: number): JSONPath[] {
  const created: JSONPath[] = [];
  for (let i = from; i < path.length - 1; i++) created.push(path.slice(0, i + 1));
  return created;
}

export class NotAContainerError extends Error {
  constructor(readonly path: JSONPath, readonly expected: 'object' | 'array') {
    super(`${JSON.stringify(path)} is not an ${expected}`);
    this.name = 'NotAContainerError';
  }
}

export interface SetResult {
  text: string;
  /** Containers this call created, outermost first (to remove again, once empty, on uninstall). */
  created: JSONPath[];
}

/**
 * Sets the member at `path` (object keys) to `value`, replacing an existing value as a whole and
 * creating missing parent objects.
 */
export function setMember(text: string, path: string[], value: unknown): SetResult {
  const layout = layoutOf(text);
  const root = tree(text);
  if (!root) {
    const prefix = text.trim() === '' ? '' : `${text.replace(/\s*$/, '')}${layout.eol}`;
    return { text: `${prefix}${formatValue(nest(path, value), '', layout)}${layout.eol}`, created: containersFrom(path, 0) };
  }
  let container = root;
  for (let i = 0; i < path.length; i++) {
    if (container.type !== 'object') throw new NotAContainerError(path.slice(0, i), 'object');
    const property = members(container).find((p) => p.children?.[0]?.value === path[i]);
    if (!property) {
      const rest = nest(path.slice(i + 1), value);
      const key = JSON.stringify(path[i]);
      const edits = insertMember(text, container, (indent) => `${key}: ${formatValue(rest, indent, layout)}`, `${key}: ${JSON.stringify(rest)}`, layout);
      return { text: applyEdits(text, edits), created: containersFrom(path, i) };
    }
    const valueNode = property.children![1]!;
    if (i === path.length - 1) {
      const formatted = isMultiLine(text, container) ? formatValue(value, lineIndent(text, property.offset), layout) : JSON.stringify(value);
      return { text: applyEdits(text, [{ offset: valueNode.offset, length: valueNode.length, content: formatted }]), created: [] };
    }
    container = valueNode;
  }
  return { text, created: [] };
}

/** Appends `value` to the array at `path`, creating the array (not its parents) when missing. */
export function appendElement(text: string, path: string[], value: unknown): SetResult {
  const root = tree(text);
  const array = root && findNodeAtLocation(root, path);
  if (!array) {
    const made = setMember(text, path, [value]);
    return { text: made.text, created: [...made.created, path] };
  }
  if (array.type !== 'array') throw new NotAContainerError(path, 'array');
  const layout = layoutOf(text);
  return { text: applyEdits(text, insertMember(text, array, (indent) => formatValue(value, indent, layout), JSON.stringify(value), layout)), created: [] };
}

/** Removes the member at `path` (a key, or an index for arrays); unchanged text when absent. */
export function removeMember(text: string, path: JSONPath): string {
  const root = tree(text);
  if (!root || path.length === 0) return text;
  const parent = findNodeAtLocation(root, path.slice(0, -1));
  const key = path[path.length - 1];
  if (!parent) return text;
  const list = members(parent);
  const index =
    parent.type === 'object' ? list.findIndex((p) => p.children?.[0]?.value === key) : parent.type === 'array' && typeof key === 'number' && key < list.length ? key : -1;
  return index === -1 ? text : applyEdits(text, removeMemberEdits(text, parent, index));
}

/** True when `path` holds an object or array with no members and no comments inside. */
export function isBareEmpty(text: string, path: JSONPath): boolean {
  const root = tree(text);
  const node = root && findNodeAtLocation(root, path);
  return !!node && (node.type === 'object' || node.type === 'array') && members(node).length === 0 && /^\s*$/.test(text.slice(node.offset + 1, node.offset + node.length - 1));
}
