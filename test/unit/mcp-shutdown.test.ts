import { describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { waitForJob } from '../../src/mcp/generate/wait.js';
import { shutdownFanOut, withShutdownSignal } from '../../src/mcp/shutdown.js';
import type { JobState } from '../../streams/job-state.js';

/**
 * The server's shutdown reaches every waiting call through one listener on its AbortSignal, so
 * any number of concurrent calls stays under Node's 10-listener warning.
 */

const never = new Promise<JobState>(() => undefined);

describe('shutdownFanOut', () => {
  it('puts one listener on the signal for 50 waits, ends them all on abort, and leaves none behind', async () => {
    const closing = new AbortController();
    const shutdown$ = shutdownFanOut(closing.signal);
    // Each call has a request signal of its own, as each MCP request does.
    const request = () => new AbortController().signal;
    const waits = Array.from({ length: 50 }, () => waitForJob(never, undefined, { request: request(), shutdown$ }));
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(1);
    closing.abort();
    const outcomes = await Promise.all(waits);
    expect(outcomes.every((o) => o.kind === 'shutdown')).toBe(true);
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
    // A wait that begins after the shutdown ends at once.
    await expect(waitForJob(never, undefined, { request: request(), shutdown$ })).resolves.toEqual({ kind: 'shutdown' });
  });

  it('drops its listener when the last wait ends another way', async () => {
    const closing = new AbortController();
    const shutdown$ = shutdownFanOut(closing.signal);
    const requests = [new AbortController(), new AbortController()];
    const waits = requests.map((r) => waitForJob(never, undefined, { request: r.signal, shutdown$ }));
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(1);
    for (const r of requests) r.abort();
    expect(await Promise.all(waits)).toEqual([{ kind: 'cancelled' }, { kind: 'cancelled' }]);
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
  });

  it('gives a call its own signal, aborted by the shutdown and unlinked when the call ends', async () => {
    const closing = new AbortController();
    const shutdown$ = shutdownFanOut(closing.signal);
    let seen: AbortSignal | undefined;
    await withShutdownSignal(shutdown$, async (signal) => {
      seen = signal;
      expect(getEventListeners(closing.signal, 'abort')).toHaveLength(1);
    });
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
    expect(seen!.aborted).toBe(false);
    const running = withShutdownSignal(shutdown$, (signal) => new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(true))));
    closing.abort();
    await expect(running).resolves.toBe(true);
  });
});
