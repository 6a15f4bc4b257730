import { expect, test } from '@jest/globals';
import { benchDispatch } from '../../bench/dispatch.js';
import { benchFleet, measureFleetRun } from '../../bench/fleet.js';

/**
 * `npm run bench`'s fleet sections with tiny counts, against simulators on loopback: every job is
 * counted on the host that ran it, and each figure is a finite number. No figure is asserted as a
 * speed (timings on a shared machine are noisy; the targets live in bench/run.ts's table).
 */

const tiny = { runs: 1, jobsPerHost: 3, warmupPerHost: 1, steps: 2, stepDelayMs: 5 };

test('one saturated run over 2 hosts: the measured jobs are counted on their hosts, with idle gaps between them', async () => {
  const run = await measureFleetRun(2, { ...tiny, hostCounts: [2] });
  expect(run.hosts).toBe(2);
  expect(run.jobs).toBe(6);
  expect(run.perHost).toHaveLength(2);
  expect(run.perHost.reduce((a, b) => a + b, 0)).toBe(6);
  expect(Number.isFinite(run.jobsPerMin)).toBe(true);
  expect(run.jobsPerMin).toBeGreaterThan(0);
  // One gap fewer than jobs on each host that ran any.
  expect(run.gapsMs).toHaveLength(6 - run.perHost.filter((n) => n > 0).length);
  for (const g of run.gapsMs) expect(g).toBeGreaterThanOrEqual(0);
});

test('the fleet section: jobs/min per host count, the ratio to one host (with its target), the idle gaps, all finite', async () => {
  const figures = await benchFleet({ ...tiny, hostCounts: [1, 2] });
  expect(figures.map((f) => f.name)).toEqual([
    'fleet jobs/min, 1 host of equal speed',
    'fleet jobs/min, 2 hosts of equal speed',
    'fleet throughput, 2 hosts / 1 host',
    'fleet host idle between jobs, 1 host, p50',
    'fleet host idle between jobs, 2 hosts, p50',
  ]);
  for (const f of figures) expect(Number.isFinite(f.value)).toBe(true);
  expect(figures[1]!.note).toMatch(/per host \d+\/\d+$/);
});

test('the dispatch section: a decision timed over a real fleet and over host views, both finite, against 0.1 ms', async () => {
  const figures = await benchDispatch({ hosts: 2, viewHosts: 5, decisions: 50, warmup: 5 });
  expect(figures.map((f) => f.name)).toEqual(['dispatch decision, 2 hosts, p50', 'dispatch decision, 5 hosts, p50']);
  for (const f of figures) {
    expect(Number.isFinite(f.value)).toBe(true);
    expect(f.value).toBeGreaterThan(0);
    expect(f.target).toEqual({ op: '<=', value: 0.1 });
    expect(f.note).toMatch(/^p99 [\d.]+ µs over 50 decisions/);
  }
});
