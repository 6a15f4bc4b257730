import { compareLatency } from '../../bench/compare-latency.js';
import { ratio } from '../../bench/compare-stats.js';

/**
 * `npm run bench -- --compare`'s completion-latency half, with tiny counts, against the
 * simulator over real loopback HTTP and WebSocket: both clients get their outputs (each run is
 * checked byte for byte against the simulator's files inside compareLatency), every sample is a
 * time after the frame, and the table's ratios are finite. No figure is asserted as a speed.
 */

test('3 alternating runs each: both sides hold the right outputs, one sample per run, finite ratios', async () => {
  const lines: string[] = [];
  const r = await compareLatency({ runs: 3, pollMs: 100, renderMs: [5, 100], steps: [1, 3], seed: 3, log: (l) => lines.push(l) });
  expect(r.verified).toEqual({ comfywire: 3, baseline: 3 });
  for (const samples of [r.comfywire, r.baseline]) {
    expect(samples).toHaveLength(3);
    // Held after the frame arrived, and within the run's own bounds (no sample from a wrong prompt).
    for (const s of samples) {
      expect(Number.isFinite(s)).toBe(true);
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThan(30_000);
    }
  }
  // Render times are drawn, not fixed, and within the asked range (steps × a whole-ms delay: ±1.5 ms).
  expect(r.renderMs).toHaveLength(3);
  expect(new Set(r.renderMs).size).toBeGreaterThan(1);
  for (const ms of r.renderMs) {
    expect(ms).toBeGreaterThanOrEqual(3);
    expect(ms).toBeLessThanOrEqual(102);
  }
  expect(r.rows.map((row) => row.measure)).toEqual(['completion latency, p50', 'completion latency, p95']);
  for (const row of r.rows) {
    expect(row.against).toBe('polls /history every 100 ms');
    expect(row.skipped).toBeUndefined();
    expect(Number.isFinite(ratio(row.ours, row.theirs))).toBe(true);
  }
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^latency run 1\/3: render \d+ ms, comfywire [\d.]+ ms, baseline \d+ ms$/);
});
