import { between, comparisonTable, formatMs, formatRatio, median, p95, ratio } from '../../bench/compare-stats.js';
import { seededRandom } from '../../bench/seeded-random.js';

/** The arithmetic and the table of `npm run bench -- --compare`. */

test('median: the middle value, the mean of the two middle ones for an even count, NaN for none; order does not matter', () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([7])).toBe(7);
  expect(median([])).toBeNaN();
  const input = [3, 1, 2];
  median(input);
  expect(input).toEqual([3, 1, 2]); // not sorted in place
});

test('p95 is nearest-rank: over 20 runs the 19th value, over 7 the largest', () => {
  const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
  expect(p95(twenty)).toBe(19);
  expect(p95([10, 70, 20, 60, 30, 50, 40])).toBe(70);
  expect(p95([])).toBeNaN();
});

test('ratio: ours over theirs, NaN when either side is missing or theirs is zero', () => {
  expect(ratio(10, 500)).toBe(0.02);
  expect(ratio(600, 1000)).toBe(0.6);
  expect(ratio(10, 0)).toBeNaN();
  expect(ratio(NaN, 5)).toBeNaN();
  expect(ratio(5, Infinity)).toBeNaN();
});

test('ratios read both ways; milliseconds keep sensible digits', () => {
  expect(formatRatio(0.02)).toBe('0.020× (50.0× faster)');
  expect(formatRatio(0.6)).toBe('0.60× (1.7× faster)');
  expect(formatRatio(2)).toBe('2.00× (2.0× slower)');
  expect(formatRatio(12.5)).toBe('12.5× (12.5× slower)');
  expect(formatRatio(1)).toBe('1.00×');
  expect(formatRatio(NaN)).toBe('n/a');
  expect(formatMs(3.14159)).toBe('3.14 ms');
  expect(formatMs(512.34)).toBe('512.3 ms');
  expect(formatMs(1534.6)).toBe('1,535 ms');
  expect(formatMs(NaN)).toBe('n/a');
});

test('the table: one aligned row per measure; a skipped side says why instead of a number', () => {
  const table = comparisonTable([
    { measure: 'completion latency, p50', ours: 12.5, against: 'poll /history 1 s', theirs: 625, note: '20 runs each' },
    { measure: 'start-up and close, median', ours: 800, against: 'comfyui-mcp@0.52.203', theirs: NaN, skipped: 'npm install failed (exit 1)' },
  ]);
  const lines = table.split('\n');
  expect(lines).toHaveLength(4);
  expect(new Set(lines.map((l) => l.length)).size).toBe(1); // aligned
  expect(lines[0]).toMatch(/^\| measure +\| comfywire +\| against +\| their figure +\| comfywire \/ theirs +\| note +\|$/);
  expect(lines[2]).toContain('| 12.5 ms ');
  expect(lines[2]).toContain('| 625.0 ms ');
  expect(lines[2]).toContain('| 0.020× (50.0× faster) ');
  expect(lines[2]).toContain('| 20 runs each ');
  expect(lines[3]).toContain('| skipped ');
  expect(lines[3]).toContain('| n/a ');
  expect(lines[3]).toContain('npm install failed (exit 1)');
});

test('the seeded generator repeats its sequence and `between` stays within its bounds, both ends reached', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 500 }, () => a());
  expect(Array.from({ length: 500 }, () => b())).toEqual(xs);
  expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  const r = seededRandom(7);
  const draws = Array.from({ length: 2000 }, () => between(r, 3, 9));
  expect(Math.min(...draws)).toBe(3);
  expect(Math.max(...draws)).toBe(9);
  expect(draws.every(Number.isInteger)).toBe(true);
});
