import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callRecord, type CallRecord } from '../../src/call-log/record.js';
import { runCli } from '../helpers/cli.js';

/**
 * The built binary's call log from a terminal: `comfywire generate` leaves its line, `comfywire
 * logs` reads it back (a table, or JSON lines), refuses bad options with exit 2, and says what to
 * do when there is no log to read.
 */

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'comfywire-logs-'));
  file = join(dir, 'state', 'calls.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const logs = (args: string[], env: Record<string, string> = {}) => runCli(['logs', ...args], { env: { COMFYWIRE_CALL_LOG: file, ...env } });

describe('comfywire logs', () => {
  it('shows the line `comfywire generate` left, as JSON and as a table', async () => {
    const gen = await runCli(['generate', 'a lighthouse at dusk, "golden hour"', '--simulate', '--steps', '2', '--width', '64', '--height', '64', '--json'], {
      env: { COMFYWIRE_OUTPUT_DIR: join(dir, 'out'), COMFYWIRE_CALL_LOG: file },
    });
    expect(gen.code).toBe(0);
    const promptId = (JSON.parse(gen.stdout) as { prompt_id: string }).prompt_id;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);

    const json = await logs(['--json']);
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as CallRecord);
    expect(lines).toEqual([
      expect.objectContaining({ tool: 'cli:generate', status: 'success', prompt_id: promptId, workflow: 'sd15-txt2img', prompt: 'a lighthouse at dusk, "golden hour"', host: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) }),
    ]);
    expect(json.stderr).toContain(`1 call(s) from ${file}`);

    const table = await logs([]);
    expect(table.code).toBe(0);
    const [head, row] = table.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^TIME\s+STATUS\s+TOOL\s+DURATION\s+PROMPT_ID\s+WORKFLOW\s+ERROR\s+PROMPT$/);
    expect(row).toContain(promptId);
    expect(row).toMatch(/ success\s+cli:generate /);
    // The prompt is quoted in the table (control characters never reach it: the input policy
    // refuses them, and format.ts escapes any a database row might hold; call-log-file.test.ts).
    expect(row).toContain('"a lighthouse at dusk, \\"golden hour\\""');
  }, 60_000);

  it('filters by --since, --status, --tool and keeps the newest --limit', async () => {
    const now = Date.now();
    const rec = (minutesAgo: number, fields: Partial<CallRecord>) => ({ ...callRecord({ tool: 'get_queue', status: 'success', durationMs: 3 }, now - minutesAgo * 60_000), ...fields });
    const records = [
      rec(180, { tool: 'generate_image', status: 'error', error_code: 'COMFY_UNREACHABLE' }),
      rec(90, { tool: 'generate_image', status: 'success' }),
      rec(20, { tool: 'cli:generate', status: 'timed-out' }),
      rec(5, { tool: 'get_queue', status: 'success' }),
    ];
    mkdirSync(join(dir, 'state'));
    writeFileSync(join(dir, 'state', 'calls1.jsonl'), records.slice(0, 2).map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(file, records.slice(2).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const ids = async (args: string[]) => {
      const r = await logs(['--json', ...args]);
      expect(r.code).toBe(0);
      return r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as CallRecord).id) : [];
    };
    expect(await ids([])).toEqual(records.map((r) => r.id));
    expect(await ids(['--since', '1h'])).toEqual([records[2]!.id, records[3]!.id]);
    expect(await ids(['--since', new Date(now - 100 * 60_000).toISOString()])).toEqual(records.slice(1).map((r) => r.id));
    expect(await ids(['--status', 'error'])).toEqual([records[0]!.id]);
    expect(await ids(['--tool', 'generate_image', '--limit', '1'])).toEqual([records[1]!.id]);
    expect(await ids(['--status', 'refused'])).toEqual([]);
  });

  it.each([
    ['--since yesterday', ['--since', 'yesterday'], /--since: must be a duration such as 30m, 1h, 2d, or an ISO date/],
    ['--status weird', ['--status', 'weird'], /--status: must be one of queued, success, error, interrupted, cancelled, timed-out, refused, lost/],
    ['--limit 0', ['--limit', '0'], /--limit: must be a whole number from 1 to 100000/],
    ['--limit 12abc', ['--limit', '12abc'], /--limit: must be a whole number/],
    ['--tool "a b"', ['--tool', 'a b'], /--tool: must be a tool name/],
    ['--since <10,000 digits>h', ['--since', `${'9'.repeat(10_000)}h`], /--since: must be a duration/],
  ])('refuses %s with exit 2, a message naming the flag, and nothing on stdout', async (_label, args, message) => {
    const r = await logs(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.length).toBeLessThan(500); // never the whole of what was typed
    expect(r.stdout).toBe('');
  });

  it('says how to turn the log on when it is off and no database is set', async () => {
    const r = await logs([], { COMFYWIRE_CALL_LOG: 'off' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: The call log is off (COMFYWIRE_CALL_LOG=off) and no DATABASE_URL is set');
    expect(r.stderr).toMatch(/hint: Unset COMFYWIRE_CALL_LOG/);
  });

  it('reports a database it cannot reach with exit 1 and a hint, without the password', async () => {
    const r = await logs([], { DATABASE_URL: 'postgres://alice:s3cret@127.0.0.1:9/comfywire' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: Could not read the call log from PostgreSQL: .*ECONNREFUSED/);
    expect(r.stderr).toMatch(/hint: Check that the database in DATABASE_URL is running/);
    expect(r.stderr).not.toContain('s3cret');
  });
});
