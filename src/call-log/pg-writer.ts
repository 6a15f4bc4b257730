import pg from 'pg';
import type { BatchWriter } from './batch-sink.js';
import { migrate } from './migrations.js';
import type { CallRecord } from './record.js';

/**
 * Batches of call records into PostgreSQL. The schema is brought up to date on the first write
 * (and again after a failed one: the database may have been replaced). Inserts are idempotent on
 * the record id, so a batch re-sent after a lost acknowledgement adds nothing twice.
 */

export const PG_CONNECT_TIMEOUT_MS = 5_000;
export const PG_QUERY_TIMEOUT_MS = 10_000;

export function createPool(url: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    query_timeout: PG_QUERY_TIMEOUT_MS,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    application_name: 'comfywire',
  });
  // An idle connection dropped by a server restart emits 'error' on the pool; without a listener
  // that would end the process. The next query simply connects again.
  pool.on('error', () => undefined);
  return pool;
}

const INSERT = `
  INSERT INTO comfywire_calls (id, time, tool, status, workflow, prompt, prompt_id, host, duration_ms, error_code)
  SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[])
  ON CONFLICT (id) DO NOTHING`;

export class PgWriter implements BatchWriter {
  private readonly pool: pg.Pool;
  private migrated = false;

  constructor(url: string) {
    this.pool = createPool(url);
  }

  async write(records: readonly CallRecord[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      if (!this.migrated) await migrate(client);
      this.migrated = true;
      const col = <K extends keyof CallRecord>(k: K) => records.map((r) => r[k] ?? null);
      await client.query(INSERT, [
        col('id'), col('time'), col('tool'), col('status'), col('workflow'), col('prompt'),
        col('prompt_id'), col('host'), col('duration_ms'), col('error_code'),
      ]);
      client.release();
    } catch (error) {
      this.migrated = false;
      client.release(true); // a broken connection must not go back to the pool
      throw error;
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
