import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileSink, rotatedName } from '../../src/call-log/file-sink.js';
import { errorOutcome, jobOutcome, resultOutcome } from '../../src/call-log/outcome.js';
import { readCallsFromFile, parseCallLine } from '../../src/call-log/read.js';
import { callRecord, hostOf, PROMPT_CHARS, type CallRecord } from '../../src/call-log/record.js';
import { formatCallTable } from '../../src/call-log/format.js';
import { ComfyUnreachableError, ParameterInvalidError, JobNotFoundError } from '../../src/errors.js';
import { initialJobState } from '../../streams/job-state.js';
import { silentLogger } from '../../src/logger.js';

/**
 * The call log's file and what goes into a line: private permissions, size rotation with
 * maxFiles kept, reading back across the rotated files with filters, bounded and credential-free
 * fields, and how results, errors and job ends read as a status.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'comfywire-calllog-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const at = (iso: string, fields: Partial<CallRecord> = {}): CallRecord => ({
  ...callRecord({ tool: 'generate_image', status: 'success', durationMs: 5 }, Date.parse(iso)),
  ...fields,
});

describe('the file', () => {
  it('is created 0600 in a folder created 0700, one JSON line per record', async () => {
    const file = join(dir, 'state', 'comfywire', 'calls.jsonl');
    const sink = createFileSink({ file, maxBytes: 1_000_000, maxFiles: 3 }, silentLogger());
    const records = [at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:01Z', { status: 'refused', error_code: 'PARAMETER_INVALID' })];
    for (const r of records) sink.write(r);
    await sink.close(2_000);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state', 'comfywire')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(records);
  });

  it('makes an existing file private and leaves an existing folder as it is', async () => {
    const file = join(dir, 'calls.jsonl');
    writeFileSync(file, '', { mode: 0o644 });
    const sink = createFileSink({ file, maxBytes: 1_000_000, maxFiles: 3 }, silentLogger());
    sink.write(at('2026-01-01T00:00:00Z'));
    await sink.close(2_000);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700); // mkdtemp's own mode, untouched
  });

  it('rotates by size and keeps maxFiles files, the newest lines in the named file', async () => {
    const file = join(dir, 'calls.jsonl');
    const sink = createFileSink({ file, maxBytes: 2_000, maxFiles: 3 }, silentLogger());
    const records = Array.from({ length: 120 }, (_, i) => at(new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()));
    // All at once, as a burst of calls would: every file still stays near its bound.
    for (const r of records) sink.write(r);
    await sink.close(5_000);
    expect(readdirSync(dir).sort()).toEqual(['calls.jsonl', 'calls1.jsonl', 'calls2.jsonl']);
    expect(readFileSync(join(dir, 'calls1.jsonl'), 'utf8').length).toBeGreaterThan(1_000);
    for (const f of ['calls.jsonl', 'calls1.jsonl', 'calls2.jsonl']) {
      const path = join(dir, f);
      expect(statSync(path).size).toBeLessThanOrEqual(2_000 + 300);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    // The named file holds the newest lines (it may be fresh and empty when the last line rotated it).
    const newest = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as CallRecord);
    expect(newest).toEqual(records.slice(records.length - newest.length));
    expect(rotatedName(file, 2)).toBe(join(dir, 'calls2.jsonl'));

    // Reading back: the newest lines across the kept files, oldest first; older ones are gone.
    const kept = await readCallsFromFile(file, { limit: 1_000 });
    expect(kept.length).toBeLessThan(records.length);
    expect(kept).toEqual(records.slice(records.length - kept.length));
  });

  it('does not take the process down when the file cannot be written', async () => {
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const warnings: string[] = [];
    const logger = silentLogger();
    logger.warn = ((m: string) => (warnings.push(m), logger)) as typeof logger.warn;
    const sink = createFileSink({ file: join(blocker, 'calls.jsonl'), maxBytes: 1000, maxFiles: 2 }, logger);
    expect(() => sink.write(at('2026-01-01T00:00:00Z'))).not.toThrow();
    expect(() => sink.write(at('2026-01-01T00:00:01Z'))).not.toThrow();
    await sink.close(500);
    expect(warnings).toEqual([expect.stringMatching(/^call log: cannot write .*not-a-folder\/calls\.jsonl: (Error: )?ENOTDIR/)]);
  });
});

describe('reading back', () => {
  const records = [
    at('2026-01-01T10:00:00Z', { tool: 'generate_image', status: 'success' }),
    at('2026-01-01T11:00:00Z', { tool: 'cli:generate', status: 'error', error_code: 'COMFY_UNREACHABLE' }),
    at('2026-01-01T12:00:00Z', { tool: 'generate_image', status: 'queued' }),
    at('2026-01-01T12:30:00Z', { tool: 'get_queue', status: 'success' }),
  ];

  beforeEach(() => {
    // Rotated siblings hold the older lines; a torn line and a foreign one are skipped.
    writeFileSync(join(dir, 'calls2.jsonl'), `${JSON.stringify(records[0])}\n{"time": "torn`);
    writeFileSync(join(dir, 'calls1.jsonl'), `${JSON.stringify(records[1])}\nnot json at all\n${JSON.stringify({ hello: 'world' })}\n`);
    writeFileSync(join(dir, 'calls.jsonl'), `${JSON.stringify(records[3])}\n${JSON.stringify(records[2])}\n`);
    writeFileSync(join(dir, 'other.jsonl'), `${JSON.stringify(at('2026-01-01T12:45:00Z'))}\n`);
  });

  it('reads the file and its rotated siblings, in time order, and nothing else', async () => {
    expect(await readCallsFromFile(join(dir, 'calls.jsonl'), { limit: 50 })).toEqual(records);
  });

  it('filters by time, status and tool, and keeps the newest `limit`', async () => {
    const file = join(dir, 'calls.jsonl');
    expect(await readCallsFromFile(file, { limit: 50, since: Date.parse('2026-01-01T11:00:00Z') })).toEqual(records.slice(1));
    expect(await readCallsFromFile(file, { limit: 50, status: 'success' })).toEqual([records[0], records[3]]);
    expect(await readCallsFromFile(file, { limit: 50, tool: 'generate_image' })).toEqual([records[0], records[2]]);
    expect(await readCallsFromFile(file, { limit: 2 })).toEqual(records.slice(2));
  });

  it('finds no lines in a folder that does not exist', async () => {
    expect(await readCallsFromFile(join(dir, 'nope', 'calls.jsonl'), { limit: 5 })).toEqual([]);
  });

  it('parses only call records', () => {
    expect(parseCallLine(JSON.stringify(records[0]))).toEqual(records[0]);
    expect(parseCallLine(JSON.stringify({ ...records[0], status: 'weird' }))).toBeUndefined();
    expect(parseCallLine('null')).toBeUndefined();
  });

  it('prints a table in which nothing reaches the terminal raw', () => {
    const table = formatCallTable([at('2026-01-01T10:00:00.123Z', { prompt: 'red \u001b[31mcat\u202e evil', prompt_id: 'p-1' })]);
    expect(table).not.toMatch(/[\u001b\u202e]/);
    expect(table).toContain('2026-01-01 10:00:00Z');
    expect(table.split('\n')[0]).toMatch(/^TIME\s+STATUS\s+TOOL\s+DURATION\s+PROMPT_ID\s+WORKFLOW\s+ERROR\s+PROMPT$/);
  });
});

describe('a record', () => {
  it('cuts the prompt to 200 characters without splitting a surrogate pair, and bounds every other field', () => {
    const prompt = `${'a'.repeat(PROMPT_CHARS - 2)}😀😀😀`;
    const r = callRecord({ tool: 'generate_image', status: 'success', durationMs: 1, prompt, promptId: 'x'.repeat(70_000), workflow: 'w'.repeat(5_000) });
    expect(Array.from(r.prompt!)).toHaveLength(PROMPT_CHARS);
    expect(r.prompt!.endsWith('😀…')).toBe(true);
    expect(r.prompt_id!.length).toBeLessThanOrEqual(200);
    expect(r.workflow!.length).toBeLessThanOrEqual(200);
    expect(JSON.stringify(r).length).toBeLessThan(1_000);
  });

  it('leaves out fields that are not strings (a caller may send anything)', () => {
    const r = callRecord({ tool: 'generate_image', status: 'success', durationMs: 1, prompt: { toString: 'x' }, promptId: 42, workflow: null });
    expect(Object.keys(r).sort()).toEqual(['duration_ms', 'id', 'status', 'time', 'tool']);
  });

  it('stores the ComfyUI host without user, password, path or query', () => {
    expect(hostOf('http://alice:s3cret@gpu.example:8188/sub?token=t')).toBe('http://gpu.example:8188');
    const r = callRecord({ tool: 't', status: 'success', durationMs: 0, host: 'https://bob:pw@comfy.local' });
    expect(r.host).toBe('https://comfy.local');
    expect(JSON.stringify(r)).not.toContain('pw');
  });
});

describe('statuses', () => {
  it('reads a thrown error: refused input, a timeout, a cancellation, anything else', () => {
    expect(errorOutcome(new ParameterInvalidError('bad steps'))).toEqual({ status: 'refused', errorCode: 'PARAMETER_INVALID' });
    expect(errorOutcome(new ComfyUnreachableError('http://x', { context: { reason: 'timeout' } }))).toEqual({ status: 'timed-out', errorCode: 'COMFY_UNREACHABLE' });
    expect(errorOutcome(new ComfyUnreachableError('http://x'))).toEqual({ status: 'error', errorCode: 'COMFY_UNREACHABLE' });
    expect(errorOutcome(new JobNotFoundError('p'))).toEqual({ status: 'error', errorCode: 'JOB_NOT_FOUND' });
    expect(errorOutcome(new TypeError('boom'))).toEqual({ status: 'error' });
  });

  it('reads a result: a handle is queued and pending, a finished job its status, a cancelled call cancelled', () => {
    const text = [{ type: 'text' as const, text: '' }];
    expect(resultOutcome({ content: text, structuredContent: { prompt_id: 'p', status: 'running', workflow: 'w' } })).toEqual({
      status: 'queued', promptId: 'p', workflow: 'w', pending: true,
    });
    expect(resultOutcome({ content: text, isError: true, structuredContent: { prompt_id: 'p', status: 'interrupted' } })).toEqual({ status: 'interrupted', promptId: 'p' });
    expect(resultOutcome({ content: text, structuredContent: { prompt_id: 'p', status: 'cancelled', cancel_outcome: 'dequeued' } }).status).toBe('cancelled');
    expect(resultOutcome({ content: text, structuredContent: { job: { status: 'error' } } })).toEqual({ status: 'success' });
    expect(resultOutcome({ content: text, isError: true })).toEqual({ status: 'error' });
  });

  it('reads a job end, and a job still going as timed out (the CLI stopped waiting)', () => {
    const state = initialJobState('p1', 0, 'sd15-txt2img');
    expect(jobOutcome({ ...state, status: 'lost' })).toEqual({ status: 'lost', promptId: 'p1', workflow: 'sd15-txt2img' });
    expect(jobOutcome(state).status).toBe('timed-out');
  });
});

