import type { ClientBase } from 'pg';

/**
 * The call log's schema, versioned: `comfywire_migrations` records each applied version, and a
 * process applies the ones it lacks in one transaction under an advisory lock, so two processes
 * starting together (a server and a `comfywire generate`) neither race nor apply one twice. A
 * database migrated by a newer comfywire is left as it is. Tables are unqualified: they land in
 * the connection's search_path (the tests give each case its own schema that way).
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'comfywire_calls',
    sql: `
      CREATE TABLE comfywire_calls (
        id uuid PRIMARY KEY,
        time timestamptz NOT NULL,
        tool text NOT NULL,
        status text NOT NULL,
        workflow text,
        prompt text,
        prompt_id text,
        host text,
        duration_ms integer NOT NULL,
        error_code text
      );
      CREATE INDEX comfywire_calls_time_idx ON comfywire_calls (time);
      CREATE INDEX comfywire_calls_status_idx ON comfywire_calls (status, time);
      CREATE INDEX comfywire_calls_tool_idx ON comfywire_calls (tool, time);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Any fixed number shared by every comfywire: the key of the migration lock. */
const MIGRATION_LOCK = 0x636f6d66; // "comf"

/** Brings the schema to SCHEMA_VERSION; returns the version the database is at afterwards. */
export async function migrate(client: ClientBase): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS comfywire_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM comfywire_migrations');
    let version = rows[0]?.v ?? 0;
    for (const m of MIGRATIONS) {
      if (m.version <= version) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO comfywire_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      version = m.version;
    }
    await client.query('COMMIT');
    return version;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
