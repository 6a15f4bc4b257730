import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runComparison } from '../../bench/compare.js';
import { compareStartup, timeStartAndClose } from '../../bench/compare-startup.js';
import { ratio } from '../../bench/compare-stats.js';
import { CLI } from '../helpers/cli.js';

/**
 * `npm run bench -- --compare` end to end with tiny counts: the built server is started, asked for
 * its tools and closed; a peer that cannot run turns its rows into skips with the reason; the
 * whole comparison prints one table with every measure. Shape and sanity only, never a speed.
 */

let home: string;
beforeEach(() => (home = mkdtempSync(join(tmpdir(), 'comfywire-bench-home-'))));
afterEach(() => rmSync(home, { recursive: true, force: true }));

// Nothing listens on port 9: start-up must not depend on ComfyUI answering.
const env = () => ({ home, comfyUrl: 'http://127.0.0.1:9' });
const comfywire = { label: 'comfywire', command: process.execPath, args: [CLI, 'serve'] };

test('one start of the built server: tools/list answered, then it exits once stdin is closed', async () => {
  const r = await timeStartAndClose(comfywire, env());
  expect(r.tools).toBeGreaterThanOrEqual(5);
  expect(r.answerBytes).toBeGreaterThan(1000);
  expect(r.toolsListMs).toBeGreaterThan(0);
  expect(r.exitMs).toBeGreaterThanOrEqual(r.toolsListMs);
}, 60_000);

test('a peer that dies before answering: our figures stand, its rows are skips that quote why', async () => {
  const dying = { label: 'dying-peer', command: process.execPath, args: ['-e', 'process.stderr.write("no such ComfyUI\\n"); process.exit(3)'] };
  const r = await compareStartup({ runs: 1, ours: comfywire, peer: dying, env: env() });
  expect(r.ours).toHaveLength(1);
  expect(r.theirs).toHaveLength(0);
  expect(r.rows).toHaveLength(2);
  for (const row of r.rows) {
    expect(Number.isFinite(row.ours)).toBe(true);
    expect(row.against).toBe('dying-peer');
    expect(row.skipped).toBe('the peer failed to start: dying-peer: exited (3) before answering tools/list; stderr: no such ComfyUI');
  }
}, 60_000);

test('two servers side by side (the built one standing in for the peer): alternating runs, finite ratios', async () => {
  const r = await compareStartup({ runs: 2, ours: comfywire, peer: { ...comfywire, label: 'stand-in' }, env: env() });
  expect(r.ours).toHaveLength(2);
  expect(r.theirs).toHaveLength(2);
  expect(r.rows.map((row) => row.measure)).toEqual(['spawn -> tools/list answered', 'spawn -> tools/list -> stdin closed -> exited']);
  for (const row of r.rows) expect(Number.isFinite(ratio(row.ours, row.theirs))).toBe(true);
}, 120_000);

test('the whole comparison, the peer left out: one table, latency ratios finite, start-up rows say why the peer is missing', async () => {
  const r = await runComparison({ latencyRuns: 1, startupRuns: 1, pollMs: 100, cli: CLI, peer: false, log: () => undefined });
  expect(r.rows.map((row) => row.measure)).toEqual([
    'completion latency, p50', 'completion latency, p95', 'spawn -> tools/list answered', 'spawn -> tools/list -> stdin closed -> exited',
  ]);
  expect(Number.isFinite(ratio(r.rows[0]!.ours, r.rows[0]!.theirs))).toBe(true);
  expect(r.rows[2]).toMatchObject({ against: 'comfyui-mcp@0.52.203', skipped: 'left out by the caller' });
  const lines = r.table.split('\n');
  expect(lines).toHaveLength(6);
  expect(lines[5]).toContain('| skipped ');
}, 120_000);
