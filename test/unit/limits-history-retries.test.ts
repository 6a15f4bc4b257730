import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HISTORY_RETRIES, HISTORY_RETRY_DELAY_MS, settleJob, type SettleDeps } from '../../src/jobs/settle.js';
import { silentLogger } from '../../src/logger.js';
import type { HistoryEntry } from '../../src/comfy/client.js';
import { initialJobState, promptContext, type JobState } from '../../streams/job-state.js';

/**
 * settleJob's history retries (src/jobs/settle.ts): when a run ended before ComfyUI wrote its
 * history entry (the entry lands a moment after the terminal message), history is read
 * HISTORY_RETRIES times, with waits growing by HISTORY_RETRY_DELAY_MS: reads at 0, 100, 300, 600
 * and 1 000 ms. An entry written before the last read is found; one written after it is not, and
 * the job settles as lost at once (no pointless wait after the last read).
 */

const READS_AT = [0, 100, 300, 600, 1_000];
const LAST_READ = READS_AT.at(-1)!;

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

const ENTRY: HistoryEntry = {
  prompt: [],
  outputs: {},
  status: { status_str: 'success', completed: true, messages: [['execution_success', { prompt_id: 'p1', timestamp: 0 }]] },
};

/** History that has no entry until `writtenAfterMs` (from the start), then has it. */
function history(writtenAfterMs: number): { deps: SettleDeps; reads: number[] } {
  const start = Date.now();
  const reads: number[] = [];
  const deps: SettleDeps = {
    client: {
      getHistory: async () => {
        reads.push(Date.now() - start);
        return Date.now() - start >= writtenAfterMs ? ENTRY : undefined;
      },
      download: async () => {
        throw new Error('no download in these tests');
      },
    },
    outputDir: '/nonexistent',
    logger: silentLogger(),
    download: false,
  };
  return { deps, reads };
}

/** A run that ended without an outcome on the socket: settle must ask history. */
function endedRun(): JobState {
  return { ...initialJobState('p1', Date.now()), status: 'running' };
}

async function settle(writtenAfterMs: number): Promise<{ state: JobState; reads: number[]; tookMs: number }> {
  const { deps, reads } = history(writtenAfterMs);
  const start = Date.now();
  let state: JobState | undefined;
  void settleJob(endedRun(), promptContext(undefined), deps).then((s) => (state = s));
  await jest.advanceTimersByTimeAsync(10_000);
  expect(state).toBeDefined();
  return { state: state!, reads, tookMs: (state!.endedAt ?? 0) - start };
}

describe('history retries on both sides of the last read', () => {
  it(`are ${HISTORY_RETRIES} reads with waits growing by ${HISTORY_RETRY_DELAY_MS} ms`, () => {
    expect([HISTORY_RETRIES, HISTORY_RETRY_DELAY_MS]).toEqual([5, 100]);
  });

  it('an entry written 1 ms before the last read is found by it: success', async () => {
    const { state, reads } = await settle(LAST_READ - 1);
    expect(reads).toEqual(READS_AT);
    expect(state.status).toBe('success');
    expect(state.settled).toBe(true);
  });

  it('an entry written 1 ms after the last read is missed: lost, decided at the last read', async () => {
    const { state, reads, tookMs } = await settle(LAST_READ + 1);
    expect(reads).toEqual(READS_AT);
    expect(state.status).toBe('lost');
    expect(state.lostReason).toMatch(/no history entry/);
    expect(tookMs).toBe(LAST_READ);
  });

  it('an entry already there is read once, at once', async () => {
    const { state, reads } = await settle(0);
    expect(reads).toEqual([0]);
    expect(state.status).toBe('success');
  });
});
