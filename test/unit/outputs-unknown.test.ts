import { afterEach, beforeEach, expect, it, jest } from '@jest/globals';
import { ComfyHttpError } from '../../src/errors.js';
import { settleJob, type SettleDeps } from '../../src/jobs/settle.js';
import { silentLogger } from '../../src/logger.js';
import { jobText } from '../../src/mcp/job-text.js';
import { jobView } from '../../src/mcp/job-view.js';
import { initialJobState, promptContext, reduceJob, type JobState } from '../../streams/job-state.js';

/**
 * A success whose `executed` frames were lost and whose /history cannot be read has unknown
 * outputs, not "no files" (issue 8: the result said "success … produced no files" and the real
 * problem was only in stderr). The result says the outputs could not be determined, why (the
 * history error), and what to do. History that answers with no outputs is still "no files".
 */

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

const ctx = promptContext(undefined);
/** Succeeded on the socket; its `executed` frames never arrived. */
const succeeded = (): JobState =>
  reduceJob(reduceJob(initialJobState('p1', 0), { type: 'execution_success', data: { prompt_id: 'p1', timestamp: 1 } }, ctx, 1), { type: 'executing', data: { node: null, prompt_id: 'p1' } }, ctx, 1);

function deps(getHistory: SettleDeps['client']['getHistory']): SettleDeps {
  return {
    client: { getHistory, download: async () => { throw new Error('no downloads here'); } },
    outputDir: '/nonexistent',
    logger: silentLogger(),
    download: true,
  };
}

async function settle(d: SettleDeps): Promise<JobState> {
  const done = settleJob(succeeded(), ctx, d);
  await jest.advanceTimersByTimeAsync(5_000);
  return done;
}

const DIAG = { objectInfo: async () => ({}) } as never;

it('history unreadable: the outputs are unknown, with the history error and what to do', async () => {
  const final = await settle(deps(async () => {
    throw new ComfyHttpError('GET', 'http://comfy/history/p1', 502, 'Bad Gateway');
  }));
  expect(final.status).toBe('success');
  expect(final.outputsUnknown).toMatch(/ComfyUI's history could not be read \(GET http:\/\/comfy\/history\/p1 answered HTTP 502: Bad Gateway\)/);
  const text = jobText(await jobView(final, DIAG, { ours: true }));
  expect(text).not.toMatch(/produced no files/);
  expect(text).toMatch(/its outputs could not be determined/);
  expect(text).toMatch(/get_workflow_status/);
  expect(text).toMatch(/output folder/);
});

it('history without an entry: unknown as well', async () => {
  const final = await settle(deps(async () => undefined));
  expect(final.outputsUnknown).toMatch(/has no history entry for it/);
});

it('history readable and empty: it produced no files, as before', async () => {
  const final = await settle(deps(async () => ({ prompt: [], outputs: {}, status: { status_str: 'success', completed: true, messages: [] } })));
  expect(final.outputsUnknown).toBeUndefined();
  expect(jobText(await jobView(final, DIAG, { ours: true }))).toMatch(/It produced no files\./);
});
