import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import winston from 'winston';
import { migrate, SCHEMA_VERSION } from '../../src/call-log/migrations.js';
import { readCallsFromPg } from '../../src/call-log/read.js';
import { callRecord, type CallRecord } from '../../src/call-log/record.js';
import { readLoss } from '../../src/call-log/loss-file.js';
import { runDoctor } from '../../src/doctor/run-doctor.js';
import { startHarness, type Harness } from './mcp-harness.js';
import { runCli } from '../helpers/cli.js';
import { IN_CI, PG_SKIP_MESSAGE, createTestSchema, pgTestServer, untilAccepting, type TestSchema } from '../helpers/postgres.js';
import { eventually } from '../helpers/wait.js';

/**
 * The call log's PostgreSQL sink against a real server (see test/helpers/postgres.ts): the
 * versioned migration, the rows MCP tool calls leave, reading them back (`comfywire logs`,
 * doctor), and an outage: the server is stopped mid-run, tool calls keep succeeding, and when it
 * is started again every line arrives exactly once, or is counted lost when the buffer was full.
 */

const server = pgTestServer();

if (!server) {
  if (IN_CI) {
    it('runs against PostgreSQL in CI', () => {
      throw new Error(`CI=true but DATABASE_URL is not set: the PostgreSQL tests must run in CI. ${PG_SKIP_MESSAGE}`);
    });
  } else {
    // eslint-disable-next-line no-console
    console.warn(PG_SKIP_MESSAGE);
  }
}

if (server && !server.ctl && IN_CI) {
  it('can stop and start PostgreSQL in CI', () => {
    throw new Error('CI=true but COMFYWIRE_TEST_PG_CTL is not set: the outage tests must run in CI (.ci/run sets it).');
  });
}

const describePg = server ? describe : describe.skip;
const base = server?.url ?? 'postgres://unset';

let schema: TestSchema;
beforeEach(async () => {
  if (server) schema = await createTestSchema(base);
});
afterEach(async () => {
  if (server) await schema.drop();
});

const rows = async (): Promise<CallRecord[]> =>
  (await readCallsFromPg(schema.url, { limit: 100_000 })).map((r) => ({ ...r }));

describePg('the schema', () => {
  it('is created by a versioned migration: comfywire_migrations at v1, comfywire_calls with its indexes', async () => {
    const client = await schema.pool.connect();
    try {
      expect(await migrate(client)).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBe(1);
      const versions = await client.query('SELECT version, name FROM comfywire_migrations');
      expect(versions.rows).toEqual([{ version: 1, name: 'comfywire_calls' }]);
      const indexes = await client.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [schema.name]);
      expect(indexes.rows.map((r) => r.indexname)).toEqual([
        'comfywire_calls_pkey', 'comfywire_calls_status_idx', 'comfywire_calls_time_idx', 'comfywire_calls_tool_idx', 'comfywire_migrations_pkey',
      ]);
      // Again: nothing to do, nothing applied twice.
      expect(await migrate(client)).toBe(1);
      expect((await client.query('SELECT count(*)::int AS n FROM comfywire_migrations')).rows[0]).toEqual({ n: 1 });
    } finally {
      client.release();
    }
  });

  it('is migrated once when two processes start together', async () => {
    const a = new pg.Client({ connectionString: schema.url });
    const b = new pg.Client({ connectionString: schema.url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      expect(await Promise.all([migrate(a), migrate(b)])).toEqual([1, 1]);
      expect((await a.query('SELECT count(*)::int AS n FROM comfywire_migrations')).rows[0]).toEqual({ n: 1 });
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('reads as no lines before anything was written (and reading creates nothing)', async () => {
    expect(await rows()).toEqual([]);
    const t = await schema.pool.query("SELECT to_regclass('comfywire_calls')::text AS t");
    expect(t.rows[0]).toEqual({ t: null });
  });
});

function logCapture() {
  const lines: string[] = [];
  const logger = winston.createLogger({ level: 'debug', transports: [new winston.transports.Console({ silent: true })] });
  logger.on('data', (info: { level: string; message: string }) => lines.push(`${info.level}: ${info.message}`));
  return { logger, lines };
}

describePg('MCP tool calls', () => {
  let h: Harness | undefined;
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'comfywire-pg-state-'));
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    rmSync(state, { recursive: true, force: true });
  });

  const fileLines = () =>
    readFileSync(h!.callLogFile!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CallRecord);

  it('leave the same lines in PostgreSQL as in the file, readable with comfywire logs and its filters', async () => {
    h = await startHarness({ callLog: { databaseUrl: schema.url } });
    await h.call('generate_image', { prompt: 'a red fox', steps: 1, width: 64, height: 64 });
    await h.call('generate_image', { prompt: 'x', workflow: 'no-such-template' });
    for (let i = 0; i < 3; i++) await h.call('get_queue');
    const stored = await eventually(async () => ((await rows()).length === 5 ? rows() : undefined));
    expect(new Map(stored.map((r) => [r.id, r]))).toEqual(new Map(fileLines().map((r) => [r.id, r])));

    const cli = await runCli(['logs', '--json', '--status', 'refused'], { env: { DATABASE_URL: schema.url } });
    expect(cli.code).toBe(0);
    const refused = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as CallRecord);
    expect(refused).toEqual([expect.objectContaining({ tool: 'generate_image', status: 'refused', error_code: 'WORKFLOW_NOT_FOUND', workflow: 'no-such-template' })]);
    expect(cli.stderr).toContain('1 call(s) from PostgreSQL (DATABASE_URL)');
    expect(cli.stderr + cli.stdout).not.toContain('comfywire:comfywire'); // no credentials echoed

    const table = await runCli(['logs', '--tool', 'get_queue', '--limit', '2'], { env: { DATABASE_URL: schema.url } });
    expect(table.code).toBe(0);
    expect(table.stdout.trim().split('\n')).toHaveLength(3); // header + 2
    expect(table.stdout).toMatch(/^TIME\s+STATUS\s+TOOL/);
  });

  const ctlIt = server?.ctl ? it : it.skip;

  ctlIt('keep succeeding while the database is stopped, and every line arrives once when it is back', async () => {
    const log = logCapture();
    h = await startHarness({
      callLog: { databaseUrl: schema.url, lossFile: join(state, 'lost.json'), sink: { backoff: { initialDelayMs: 100, maxDelayMs: 500 } } },
      deps: { logger: log.logger },
    });
    for (let i = 0; i < 3; i++) await h.call('get_queue');
    await eventually(async () => ((await rows()).length === 3 ? true : undefined));

    server!.ctl!('stop');
    try {
      for (let i = 0; i < 40; i++) {
        const r = await h.call(i % 2 ? 'get_queue' : 'list_workflows');
        expect(r.isError).toBeFalsy();
      }
      const r = await h.call('generate_image', { prompt: 'during the outage', steps: 1, width: 64, height: 64 });
      expect(r.isError).toBeFalsy();
      await eventually(() => (h!.calls!.database()!.failing ? true : undefined));
      expect(h.calls!.database()!.buffered).toBeGreaterThan(0);
      expect(log.lines.filter((l) => l.includes('PostgreSQL unreachable'))).toHaveLength(1);
    } finally {
      server!.ctl!('start');
      await untilAccepting(base);
    }

    const stored = await eventually(async () => ((await rows()).length >= 44 ? rows() : undefined), 30_000);
    const file = fileLines();
    expect(file).toHaveLength(44);
    expect(stored).toHaveLength(44);
    expect(new Set(stored.map((r) => r.id))).toEqual(new Set(file.map((r) => r.id)));
    expect(h.calls!.database()).toMatchObject({ failing: false, buffered: 0, lost: 0 });
    expect(log.lines.some((l) => l.includes('PostgreSQL answers again; the buffered lines are written'))).toBe(true);
    expect(readLoss(join(state, 'lost.json'))).toBeUndefined();
  }, 90_000);

  ctlIt('count and report the lines a full buffer dropped, in the log and in doctor', async () => {
    const log = logCapture();
    h = await startHarness({
      callLog: { databaseUrl: schema.url, lossFile: join(state, 'call-log-lost.json'), sink: { capacity: 5, backoff: { initialDelayMs: 100, maxDelayMs: 500 } } },
      deps: { logger: log.logger },
    });
    await h.call('get_queue');
    await eventually(async () => ((await rows()).length === 1 ? true : undefined));

    server!.ctl!('stop');
    try {
      for (let i = 0; i < 12; i++) expect((await h.call('get_queue')).isError).toBeFalsy();
      expect(h.calls!.database()).toMatchObject({ buffered: 5, lost: 7 });
      const down = await runDoctor({ env: { COMFYUI_URL: h.sim.url, COMFYWIRE_OUTPUT_DIR: h.outputDir, DATABASE_URL: schema.url, COMFYWIRE_STATE_DIR: state, COMFYWIRE_CALL_LOG: 'off' } });
      expect(down.find((c) => c.name === 'call log database')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^cannot reach PostgreSQL 127\.0\.0\.1:5432\/\S+: /) });
    } finally {
      server!.ctl!('start');
      await untilAccepting(base);
    }

    // The five newest lines arrive; the seven oldest are gone, and said so once.
    const stored = await eventually(async () => ((await rows()).length === 6 ? rows() : undefined), 30_000);
    expect(stored.map((r) => r.id).slice(1)).toEqual(fileLines().slice(-5).map((r) => r.id));
    await eventually(() => (log.lines.some((l) => l.startsWith('warn: ') && l.includes('7 line(s) were lost')) ? true : undefined));
    expect(readLoss(join(state, 'call-log-lost.json'))).toMatchObject({ lost: 7 });

    const checks = await runDoctor({ env: { COMFYUI_URL: h.sim.url, COMFYWIRE_OUTPUT_DIR: h.outputDir, DATABASE_URL: schema.url, COMFYWIRE_STATE_DIR: state, COMFYWIRE_CALL_LOG: 'off' } });
    const db = checks.find((c) => c.name === 'call log database')!;
    expect(db).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^PostgreSQL 127\.0\.0\.1:5432\/\S+, schema v1; 7 call log line\(s\) could not be written to it/) });
    expect(JSON.stringify(checks)).not.toContain(':comfywire@');
  }, 90_000);
});

describePg('doctor', () => {
  it('reports the database and its schema version, without credentials', async () => {
    const state = mkdtempSync(join(tmpdir(), 'comfywire-pg-doctor-'));
    try {
      const env = { COMFYUI_URL: 'http://127.0.0.1:9', DATABASE_URL: schema.url, COMFYWIRE_STATE_DIR: state, COMFYWIRE_CALL_LOG: 'off' };
      const before = (await runDoctor({ env })).find((c) => c.name === 'call log database');
      expect(before).toMatchObject({ status: 'ok', detail: expect.stringContaining('no comfywire tables yet') });
      const client = await schema.pool.connect();
      await migrate(client);
      client.release();
      await schema.pool.query(`INSERT INTO comfywire_calls (id, time, tool, status, duration_ms) VALUES ($1, now(), 't', 'success', 1)`, [callRecord({ tool: 't', status: 'success', durationMs: 1 }).id]);
      const after = (await runDoctor({ env })).find((c) => c.name === 'call log database');
      expect(after).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^PostgreSQL 127\.0\.0\.1:5432\/[^,]+, schema v1$/) });
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
