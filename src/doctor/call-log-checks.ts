/** The call log: where its file goes, and whether the PostgreSQL sink can write and has lost lines. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { LOSS_FILE, readLoss } from '../call-log/loss-file.js';
import { SCHEMA_VERSION } from '../call-log/migrations.js';
import type { Config } from '../config.js';
import { errorText, ok, warn, type DoctorCheck } from './types.js';

/** host:port/database, never the user or password. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

async function nearestExisting(dir: string): Promise<string> {
  for (let current = dir; ; current = dirname(current)) {
    if (await stat(current).then(() => true, () => false)) return current;
    if (dirname(current) === current) return current;
  }
}

export async function checkCallLogFile(config: Readonly<Config>): Promise<DoctorCheck> {
  const log = config.callLog;
  if (!log) return ok('call log', 'off (COMFYWIRE_CALL_LOG=off)');
  const mb = (log.maxBytes / 1024 / 1024).toFixed(log.maxBytes < 1024 * 1024 ? 2 : 0);
  const detail = `${log.file} (rotated at ${mb} MB, ${log.maxFiles} files kept)`;
  const folder = await nearestExisting(dirname(log.file));
  try {
    await access(folder, constants.W_OK);
    return ok('call log', detail);
  } catch (error) {
    return warn('call log', `${detail}: cannot write in ${folder}: ${errorText(error)}`, `Make ${folder} writable, or point COMFYWIRE_CALL_LOG at a file in a folder that is (or set it to off).`);
  }
}

export async function checkCallLogDatabase(config: Readonly<Config>, timeoutMs: number): Promise<DoctorCheck | undefined> {
  if (!config.databaseUrl) return undefined;
  const where = describeDatabase(config.databaseUrl);
  const loss = readLoss(join(config.stateDir, LOSS_FILE));
  const client = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  let detail: string;
  try {
    await client.connect();
    const table = await client.query<{ t: string | null }>("SELECT to_regclass('comfywire_migrations')::text AS t");
    const version = table.rows[0]?.t ? ((await client.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM comfywire_migrations')).rows[0]?.v ?? 0) : 0;
    detail = version ? `PostgreSQL ${where}, schema v${version}` : `PostgreSQL ${where}, no comfywire tables yet (created on the first call, schema v${SCHEMA_VERSION})`;
  } catch (error) {
    return warn(
      'call log database',
      `cannot reach PostgreSQL ${where}: ${errorText(error)}`,
      'Start the database or fix DATABASE_URL. Meanwhile tool calls still work: their lines wait in a bounded buffer (the oldest are dropped once it is full) and always reach the call log file.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  if (loss && loss.lost > 0) {
    return warn(
      'call log database',
      `${detail}; ${loss.lost} call log line(s) could not be written to it (last ${loss.last})`,
      `Those lines are in the call log file only. Keep the database up while comfywire runs; delete ${join(config.stateDir, LOSS_FILE)} to reset the count.`,
    );
  }
  return ok('call log database', detail);
}
