import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { captureWarnings } from '../helpers/process-warnings.js';
import { startHarness, type Harness } from './mcp-harness.js';

/**
 * Many generate_image calls at once on one server: each waits on the server's shutdown signal
 * while its job runs. Node warns (MaxListenersExceededWarning) when more than 10 listeners sit on
 * one AbortSignal, which is what 40 concurrent calls used to do.
 */

const CALLS = 60;
let h: Harness;
beforeAll(async () => {
  // The harness turns the rate limits and the job cap off: these calls are many on purpose.
  h = await startHarness({ stepDelayMs: 1 });
});
afterAll(async () => h.close());

test(`${CALLS} concurrent generate_image calls all succeed and raise no process warning`, async () => {
  const warnings = captureWarnings();
  const results = await Promise.all(
    Array.from({ length: CALLS }, (_, i) => h.call('generate_image', { prompt: `tile ${i}`, steps: 1, width: 64, height: 64 })),
  );
  const seen = await warnings.stop();
  expect(results.filter((r) => r.isError)).toEqual([]);
  expect(new Set(results.map((r) => (r.structuredContent as { prompt_id: string }).prompt_id)).size).toBe(CALLS);
  expect(seen).toEqual([]);
  // And the server still serves.
  expect((await h.call('get_queue')).isError).toBeFalsy();
}, 120_000);
