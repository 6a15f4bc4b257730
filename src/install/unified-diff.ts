/**
 * A unified diff of two versions of a config file, for `--dry-run`. The edits are local (one
 * entry, a few inputs), so the common head and tail are cut first and only the middle is
 * compared line by line; files such as ~/.claude.json run to thousands of lines.
 */
const CONTEXT = 3;
/** Beyond this many lines in the changed middle, show it as removed then added. */
const MAX_MIDDLE = 2000;

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Longest common subsequence, as a list of operations. */
function compare(a: string[], b: string[]): Op[] {
  if (a.length > MAX_MIDDLE || b.length > MAX_MIDDLE) return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: ' ', line: a[i++]! }), j++;
    // Removals before additions, as diff(1) prints a changed line.
    else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ kind: '-', line: a[i++]! });
    else ops.push({ kind: '+', line: b[j++]! });
  }
  return ops;
}

/** `--- a` / `+++ b` and the hunks; an empty string when nothing differs. */
export function unifiedDiff(before: string | undefined, after: string | undefined, names: { from: string; to: string }): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops: Op[] = [
    ...a.slice(0, head).map((line) => ({ kind: ' ' as const, line })),
    ...compare(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
    ...a.slice(a.length - tail).map((line) => ({ kind: ' ' as const, line })),
  ];
  const out = [`--- ${before === undefined ? '/dev/null' : names.from}`, `+++ ${after === undefined ? '/dev/null' : names.to}`];
  // Each change with its context; ranges that touch merge into one hunk.
  const ranges: Array<[number, number]> = [];
  ops.forEach((op, k) => {
    if (op.kind === ' ') return;
    const from = Math.max(0, k - CONTEXT);
    const to = Math.min(ops.length, k + CONTEXT + 1);
    const last = ranges.at(-1);
    if (last && from <= last[1]) last[1] = to;
    else ranges.push([from, to]);
  });
  for (const [from, to] of ranges) {
    const hunk = ops.slice(from, to);
    const aStart = ops.slice(0, from).filter((o) => o.kind !== '+').length;
    const bStart = ops.slice(0, from).filter((o) => o.kind !== '-').length;
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${aLen ? aStart + 1 : aStart},${aLen} +${bLen ? bStart + 1 : bStart},${bLen} @@`, ...hunk.map((o) => `${o.kind}${o.line}`));
  }
  return `${out.join('\n')}\n`;
}
