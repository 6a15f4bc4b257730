import type { ComfyClient } from '../../src/comfy/client.js';
import { slowPrompt } from '../helpers/prompts.js';
import { until, within } from '../helpers/wait.js';
import { startHarness, type Harness } from '../helpers/engine-harness.js';

/**
 * engine.close() racing a submission: whatever point the submission is at, it ends (submit settles,
 * and a job it returns has its `done` resolved), nothing waits for ever.
 */

const ENDS_WITHIN_MS = 10_000;

/** Holds every POST /prompt until release() (the request goes out afterwards, as a slow network would). */
function holdSubmissions(client: ComfyClient): { release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const submit = client.submitPrompt.bind(client);
  client.submitPrompt = async (...args) => {
    await gate;
    return submit(...args);
  };
  return { release };
}

describe('engine.close() during a submission', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('a job whose POST is in flight ends as lost with the shutdown reason; submit still returns it', async () => {
    const held = holdSubmissions(h.engine.client);
    const submitting = h.engine.submit(slowPrompt(1));
    await until(() => h.engine.jobs.activeCount === 1);
    expect(await within(h.engine.close(), ENDS_WITHIN_MS)).not.toBe('timeout');
    held.release();
    const job = await within(submitting, ENDS_WITHIN_MS);
    if (job === 'timeout') throw new Error('submit did not settle');
    const final = await within(job.done, ENDS_WITHIN_MS);
    expect(final).toMatchObject({ status: 'lost', settled: true, lostReason: expect.stringMatching(/shut down/) });
    expect(h.engine.jobs.activeCount).toBe(0);
  });

  it('a submission that starts while close() is under way settles, and so does any job it returns', async () => {
    const closing = h.engine.close();
    const outcome = await within(
      h.engine.submit(slowPrompt(1)).then((job) => job.done, (err: unknown) => err),
      ENDS_WITHIN_MS,
    );
    expect(outcome).not.toBe('timeout');
    // Refused with the reason (the socket is closing, so it never opens again), not RxJS's bare
    // "no elements in sequence"; a job, had it got one, must have ended.
    if (outcome instanceof Error) {
      expect(outcome.name).toBe('ComfyUnreachableError');
      expect(JSON.stringify((outcome as Error & { context?: unknown }).context)).toMatch(/shutting down, or it gave up reconnecting/);
    } else expect(outcome).toMatchObject({ status: 'lost', settled: true });
    await closing;
    expect(h.engine.jobs.activeCount).toBe(0);
  });

  it('a submission after close() is refused at once with the reason', async () => {
    await h.engine.close();
    const outcome = await within(h.engine.submit(slowPrompt(1)).catch((err: unknown) => err), ENDS_WITHIN_MS);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).name).toBe('ComfyUnreachableError');
    expect(JSON.stringify((outcome as Error & { context?: unknown }).context)).toMatch(/the connection to its WebSocket is closed/);
  });
});
