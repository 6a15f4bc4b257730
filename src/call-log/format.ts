import type { CallRecord } from './record.js';

/** `comfywire logs`' table: one line per call, fixed columns, nothing a terminal would interpret. */

const PROMPT_COLUMN = 48;

/** Control and format characters (ANSI escapes, bidi overrides...) shown as "·": a log is read in a terminal. */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, '·');
}

function clip(text: string, max: number): string {
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')} s`;
}

export function formatCallTable(records: readonly CallRecord[]): string {
  const rows = records.map((r) => [
    r.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    r.status,
    r.tool,
    duration(r.duration_ms),
    r.prompt_id ?? '',
    r.workflow ?? '',
    r.error_code ?? '',
    r.prompt === undefined ? '' : JSON.stringify(clip(r.prompt, PROMPT_COLUMN)),
  ].map(printable));
  const head = ['TIME', 'STATUS', 'TOOL', 'DURATION', 'PROMPT_ID', 'WORKFLOW', 'ERROR', 'PROMPT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
