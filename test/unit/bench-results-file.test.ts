import { cpus } from 'node:os';
import { benchOutput, describeMachine, renderResults, type Machine } from '../../bench/results-file.js';

/** bench/RESULTS.md is generated: the tables verbatim, the machine, the date, how to reproduce. */

const BENCH_STDOUT = [
  '| benchmark | result | target |  | note |',
  '|---|---|---|---|---|',
  '| terminal frame -> job completion, p50 | 0.197 ms | <= 2.000 ms | ok | p95 0.304 ms |',
  '4 met, 3 missed',
  '',
].join('\n');

const COMPARE = [
  '| measure | comfywire | against | their figure | comfywire / theirs | note |',
  '|---|---|---|---|---|---|',
  '| completion latency, p50 | 41.7 ms | polls /history every 1000 ms | 487.4 ms | 0.086× (11.7× faster) | 20 runs |',
].join('\n');

const MACHINE: Machine = { cpu: 'Intel(R) Xeon(R) Processor', cores: 2, memoryGiB: 23.43, node: 'v20.20.2', os: 'Linux 6.8.0 x64', loadAtStart: 1.5 };

test('the bench output keeps its table lines and its met/missed line, nothing else', () => {
  const out = benchOutput(`some stray line\n${BENCH_STDOUT}`);
  expect(out.table.split('\n')).toHaveLength(3);
  expect(out.table.startsWith('| benchmark')).toBe(true);
  expect(out.summary).toBe('4 met, 3 missed');
  expect(benchOutput('')).toEqual({ table: '', summary: '' });
});

test('the file has the date, the machine, both tables verbatim, and the commands that rebuild it', () => {
  const text = renderResults({ machine: MACHINE, date: new Date(Date.UTC(2026, 10, 30, 1, 2, 3, 456)), bench: benchOutput(BENCH_STDOUT), compare: COMPARE });
  expect(text).toContain('- Date: 2026-11-30T01:02:03Z');
  expect(text).toContain('- CPU: Intel(R) Xeon(R) Processor, 2 cores');
  expect(text).toContain('- Memory: 23.4 GiB');
  expect(text).toContain('- Node: v20.20.2');
  expect(text).toContain('- Load average (1 min) at the start: 1.50');
  expect(text).toContain(`## \`npm run bench\`\n\n${benchOutput(BENCH_STDOUT).table}\n\n4 met, 3 missed\n`);
  expect(text).toContain(`## \`npm run bench -- --compare\`\n\n${COMPARE}\n`);
  expect(text).toContain('npm run bench:results');
  expect(text).toContain('do not edit by hand');
  // The fleet rows say what they measure: saturated equal hosts, and a pure decision.
  expect(text).toContain('Fleet: jobs per minute with 1, 2 and 4 simulators of equal speed');
  expect(text).toContain('Dispatch decision: `fleet.decide()`');
  expect(text).not.toContain('- Note:');
  expect(renderResults({ machine: MACHINE, date: new Date(0), bench: { table: '', summary: '' }, compare: '', note: 'shared with other runs' })).toContain(
    '- Note: shared with other runs\n',
  );
});

test('the machine is this one', () => {
  const m = describeMachine();
  expect(m.cores).toBe(cpus().length);
  expect(m.node).toBe(process.version);
  expect(m.memoryGiB).toBeGreaterThan(0);
  expect(m.cpu.length).toBeGreaterThan(0);
});
