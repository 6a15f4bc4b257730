import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The real PostgreSQL server the call-log tests run against: DATABASE_URL names it, and
 * COMFYWIRE_TEST_PG_CTL is the command that stops and starts it (".ci/run" sets both, e.g.
 * "pg_ctlcluster 15 main"; the helper appends "stop" or "start"). Without DATABASE_URL the tests
 * skip with a message, except under CI=true, where a missing database fails the suite: CI always
 * runs them.
 *
 * Each test gets its own schema (dropped afterwards) through the connection's search_path, so
 * the tests never see each other's tables, nor a developer's.
 */

export interface PgTestServer {
  url: string;
  /** Stops or starts the server; undefined when COMFYWIRE_TEST_PG_CTL is not set. */
  ctl: ((action: 'stop' | 'start') => void) | undefined;
}

export const IN_CI = process.env['CI'] === 'true';

export const PG_SKIP_MESSAGE =
  'PostgreSQL call-log tests skipped: set DATABASE_URL (and COMFYWIRE_TEST_PG_CTL="pg_ctlcluster <version> <cluster>" for the outage tests) to run them; .ci/run does.';

export function pgTestServer(): PgTestServer | undefined {
  const url = process.env['DATABASE_URL']?.trim();
  if (!url) return undefined;
  const command = process.env['COMFYWIRE_TEST_PG_CTL']?.trim();
  const ctl = command
    ? (action: 'stop' | 'start') => {
        const [file, ...args] = command.split(/\s+/);
        execFileSync(file!, [...args, action], { stdio: 'pipe', timeout: 60_000 });
      }
    : undefined;
  return { url, ctl };
}

/** The URL with the search_path set to `schema`: what the code under test connects with. */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export interface TestSchema {
  name: string;
  /** DATABASE_URL for the code under test: its tables land in this schema. */
  url: string;
  /** A pool for the test's own queries, on the same schema. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

export async function createTestSchema(base: string): Promise<TestSchema> {
  const name = `cw_test_${randomBytes(6).toString('hex')}`;
  const url = withSchema(base, name);
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${name}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // A server stopped by the test drops the pool's idle connections: expected, not a failure.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await c.end();
    },
  };
}

/** Waits (bounded) until the server accepts connections again after a start. */
export async function untilAccepting(url: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch (error) {
      await c.end().catch(() => undefined);
      if (Date.now() > end) throw new Error(`PostgreSQL did not accept connections within ${ms} ms: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
