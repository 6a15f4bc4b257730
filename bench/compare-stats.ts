import { percentile } from './table.js';

/**
 * The figures of `npm run bench -- --compare`: medians, p95 and ratios of two sides measured in
 * the same run, and the table that prints them. A side that could not be measured (the peer not
 * installable) is a row with the reason instead of a number, never a missing row.
 */

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank 95th percentile (over a handful of runs, that is the largest value but one or two). */
export function p95(values: readonly number[]): number {
  return percentile([...values], 95);
}

/** ours / theirs; NaN unless both are finite and theirs is above zero (a ratio to nothing means nothing). */
export function ratio(ours: number, theirs: number): number {
  return Number.isFinite(ours) && Number.isFinite(theirs) && theirs > 0 ? ours / theirs : NaN;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (Math.abs(ms) >= 1000) return `${Math.round(ms).toLocaleString('en-US')} ms`;
  return `${ms.toFixed(Math.abs(ms) >= 10 ? 1 : 2)} ms`;
}

/** "0.021×" with how many times faster or slower, so the table reads either way round. */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r) || r <= 0) return 'n/a';
  const x = r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toFixed(3);
  if (r < 1) return `${x}× (${(1 / r).toFixed(1)}× faster)`;
  if (r > 1) return `${x}× (${r.toFixed(1)}× slower)`;
  return `${x}×`;
}

/** One measure, both sides: comfywire ("ours") against the other one, named by `against`. */
export interface ComparisonRow {
  measure: string;
  ours: number;
  against: string;
  theirs: number;
  /** Why the other side has no figure (e.g. the peer could not be installed). */
  skipped?: string;
  note?: string;
}

export function comparisonTable(rows: readonly ComparisonRow[]): string {
  const head = ['measure', 'comfywire', 'against', 'their figure', 'comfywire / theirs', 'note'];
  const cells = rows.map((r) => [
    r.measure,
    formatMs(r.ours),
    r.against,
    r.skipped ? 'skipped' : formatMs(r.theirs),
    r.skipped ? 'n/a' : formatRatio(ratio(r.ours, r.theirs)),
    r.skipped ? `${r.skipped}${r.note ? `; ${r.note}` : ''}` : (r.note ?? ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}


/** A whole number in [min, max] from a generator. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
