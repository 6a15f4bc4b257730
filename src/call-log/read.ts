import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type pg from 'pg';
import { CallLogUnavailableError } from '../errors.js';
import { createPool } from './pg-writer.js';
import { isCallStatus, type CallRecord, type CallStatus } from './record.js';

/**
 * Reading the call log back for `comfywire logs`: from PostgreSQL when it is configured (every
 * process's lines, whatever machine), else from the file and its rotated siblings.
 */

export interface CallFilter {
  /** Epoch ms: lines at or after it. */
  since?: number;
  status?: CallStatus;
  tool?: string;
  /** The newest `limit` lines are returned, oldest first. */
  limit: number;
}

function matches(r: CallRecord, f: CallFilter): boolean {
  return (f.since === undefined || Date.parse(r.time) >= f.since) && (f.status === undefined || r.status === f.status) && (f.tool === undefined || r.tool === f.tool);
}

/** A parsed line, or undefined for one that is not a call record (a torn write, a foreign line). */
export function parseCallLine(line: string): CallRecord | undefined {
  try {
    const r = JSON.parse(line) as Partial<CallRecord>;
    if (typeof r !== 'object' || r === null) return undefined;
    if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time)) || typeof r.tool !== 'string' || !isCallStatus(r.status)) return undefined;
    return r as CallRecord;
  } catch {
    return undefined;
  }
}

/** The file and its rotated siblings (calls.jsonl, calls1.jsonl, ...), those that exist. */
export async function callLogFiles(file: string): Promise<string[]> {
  const dir = dirname(file);
  const ext = extname(file);
  const stem = basename(file, ext);
  const rotated = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)${ext.replace('.', '\\.')}$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n === basename(file) || rotated.test(n)).map((n) => join(dir, n));
}

export async function readCallsFromFile(file: string, filter: CallFilter): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  for (const path of await callLogFiles(file)) {
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const r = parseCallLine(line);
      if (r && matches(r, filter)) records.push(r);
    }
  }
  // Several processes append to the same file: order by time, not by position.
  records.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  return records.slice(-filter.limit);
}

interface CallRow {
  id: string;
  time: Date;
  tool: string;
  status: string;
  workflow: string | null;
  prompt: string | null;
  prompt_id: string | null;
  host: string | null;
  duration_ms: number;
  error_code: string | null;
}

function fromRow(row: CallRow): CallRecord {
  const r: CallRecord = { id: row.id, time: row.time.toISOString(), tool: row.tool, status: row.status as CallStatus, duration_ms: row.duration_ms };
  if (row.workflow !== null) r.workflow = row.workflow;
  if (row.prompt !== null) r.prompt = row.prompt;
  if (row.prompt_id !== null) r.prompt_id = row.prompt_id;
  if (row.host !== null) r.host = row.host;
  if (row.error_code !== null) r.error_code = row.error_code;
  return r;
}

/** Reads without writing: a database no comfywire has written to yet simply has no lines. */
export async function readCallsFromPg(url: string, filter: CallFilter, pool: pg.Pool = createPool(url)): Promise<CallRecord[]> {
  try {
    const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('comfywire_calls')::text AS t");
    if (!exists.rows[0]?.t) return [];
    const { rows } = await pool.query<CallRow>(
      `SELECT id, time, tool, status, workflow, prompt, prompt_id, host, duration_ms, error_code FROM comfywire_calls
       WHERE ($1::timestamptz IS NULL OR time >= $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR tool = $3)
       ORDER BY time DESC, id LIMIT $4`,
      [filter.since === undefined ? null : new Date(filter.since).toISOString(), filter.status ?? null, filter.tool ?? null, filter.limit],
    );
    return rows.map(fromRow).reverse();
  } catch (error) {
    throw new CallLogUnavailableError(`Could not read the call log from PostgreSQL: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      hint: 'Check that the database in DATABASE_URL is running and reachable (comfywire doctor checks it), or unset DATABASE_URL to read the local file.',
    });
  } finally {
    await pool.end().catch(() => undefined);
  }
}
