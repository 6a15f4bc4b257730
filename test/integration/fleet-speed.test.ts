import { afterEach, expect, it } from '@jest/globals';
import { prepareGeneration } from '../../src/generation/prepare.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { startFleetHarness, type FleetHarness } from '../helpers/fleet-harness.js';

/**
 * A slow host gets proportionally fewer jobs: two simulators whose sampler steps take 20 ms and
 * 120 ms. After two runs on each (pinned, so each host's seconds per job is measured), a burst of
 * 20 jobs submitted at once is split by expected wait, queue × measured seconds per job: the slow
 * host's share is the fast host's seconds per job over the sum of both, within 1.5 jobs (about 4
 * of 20 on a quiet machine; more when load adds the same fixed cost to every job), never none.
 */

let h: FleetHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const request = { prompt: 'a lighthouse', width: 64, height: 64, steps: 8 } as GenerateRequest;

it("a burst is split by measured speed: each host gets a share that follows its measured seconds per job", async () => {
  h = await startFleetHarness([{ sim: { stepDelayMs: 20 } }, { sim: { stepDelayMs: 120 } }]);
  const submit = async (host?: string) => {
    const prepared = await prepareGeneration(h!.fleet, request);
    return h!.fleet.submit(prepared.prompt, { workflow: prepared.templateName, ...(host ? { host } : {}), download: false });
  };
  for (const host of ['gpu-1', 'gpu-2', 'gpu-1', 'gpu-2']) expect((await (await submit(host)).done).status).toBe('success');
  const fast = h.fleet.hostList()[0]!.status().secondsPerJob;
  const slow = h.fleet.hostList()[1]!.status().secondsPerJob;
  expect(fast).toBeDefined();
  // 6× slower steps; fixed per-job costs (PNG, HTTP) narrow the measured ratio on a busy machine.
  expect(slow! / fast!).toBeGreaterThan(1.5);

  const jobs = await Promise.all(Array.from({ length: 20 }, () => submit()));
  const ends = await Promise.all(jobs.map((j) => j.done));
  expect(ends.every((s) => s.status === 'success')).toBe(true);
  const onFast = ends.filter((s) => s.host === 'gpu-1').length;
  const onSlow = ends.filter((s) => s.host === 'gpu-2').length;
  expect(onFast + onSlow).toBe(20);
  // Equal expected waits (queue × seconds per job) put the slow host's share at fast / (fast + slow).
  expect(onSlow).toBeGreaterThanOrEqual(1);
  expect(Math.abs(onSlow - (20 * fast!) / (fast! + slow!))).toBeLessThanOrEqual(1.5);
  expect(onFast).toBeGreaterThan(onSlow);
  // The reason quotes the measured figures once a host has some.
  expect(ends.some((s) => /queued × [\d.]+ s/.test(s.dispatch ?? ''))).toBe(true);
}, 60_000);
