import { previewEncoderState } from '../../src/mcp/inline-image.js';
import { startHarness, type Harness } from './mcp-harness.js';
import { eventually, until } from '../helpers/wait.js';

/**
 * The inline preview's encoder (sharp: libvips loaded, its codecs run once) costs tens of
 * milliseconds the first time. A generate_image call that waits for its job warms it while the
 * job is queued or running, so the first result of a fresh server does not pay for it after the
 * render; a call that does not wait builds no preview and leaves sharp unloaded.
 * (This file's own module registry: nothing else in it loads sharp.)
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 0 });
});
afterAll(async () => h.close());

const SMALL = { prompt: 'a lighthouse', steps: 1, width: 64, height: 64 };

test('a call that does not wait builds no preview and leaves the encoder cold', async () => {
  const r = await h.call('generate_image', { ...SMALL, wait: false });
  expect(r.isError).toBeFalsy();
  const id = (r.structuredContent as { prompt_id: string }).prompt_id;
  await h.engine.job(id)?.done;
  expect(previewEncoderState()).toBe('cold');
});

test('a waiting call warms the encoder while its job is still queued, and the result has its preview', async () => {
  h.sim.faults.pauseWorker();
  const call = h.call('generate_image', SMALL);
  // Should the test fail before it reads the call's outcome, the harness closing must not turn
  // the pending call into an unhandled rejection.
  call.catch(() => undefined);
  try {
    const job = await eventually(() => h.engine.inFlight()[0]);
    expect(job.state.status).toBe('queued');
    await until(() => previewEncoderState() === 'warm');
    // Still queued: the warm-up did not wait for the job's end.
    expect(job.state.status).toBe('queued');
  } finally {
    h.sim.faults.resumeWorker();
  }
  const r = await call;
  expect(r.isError).toBeFalsy();
  expect(r.content.filter((c) => c.type === 'image')).toHaveLength(1);
});
