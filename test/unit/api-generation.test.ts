import { expect, it } from '@jest/globals';
import { ApiGeneration } from '../../src/comfy/api-generation.js';
import { historyFromJob } from '../../src/comfy/job-history.js';
import { JobSchema } from '../../src/comfy/schemas.js';

/** The per-connection memory of a server's API generation, and a finished job read as its history entry. */

it('asks once, shares the answer in flight, forgets it on reconnect, and never remembers a failed probe', async () => {
  const answers: Array<boolean | Error> = [new Error('ECONNREFUSED'), true, false];
  let asked = 0;
  const gen = new ApiGeneration(async () => {
    const a = answers[asked++]!;
    if (a instanceof Error) throw a;
    return a;
  });
  await expect(gen.hasJobsApi()).rejects.toThrow('ECONNREFUSED');
  const [a, b] = await Promise.all([gen.hasJobsApi(), gen.hasJobsApi()]);
  expect([a, b, asked]).toEqual([true, true, 2]);
  gen.targetedCancel = false;
  gen.forget();
  expect(gen.targetedCancel).toBeUndefined();
  expect(await gen.hasJobsApi()).toBe(false);
  expect(asked).toBe(3);
});

it('a finished job detail becomes the history entry it came from; queued and running ones do not', () => {
  const job = JobSchema.parse({
    id: 'p1', status: 'failed', priority: 4,
    outputs: { '9': { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] } },
    execution_status: { status_str: 'error', completed: false, messages: [['execution_error', { exception_message: 'boom', timestamp: 5 }]] },
    workflow: { prompt: { '9': { class_type: 'SaveImage', inputs: {} } }, extra_data: { create_time: 1 } },
  });
  const entry = historyFromJob(job)!;
  expect(entry.prompt).toEqual([4, 'p1', { '9': { class_type: 'SaveImage', inputs: {} } }, { create_time: 1 }, []]);
  expect(entry.status).toMatchObject({ status_str: 'error', messages: [['execution_error', { exception_message: 'boom', timestamp: 5 }]] });
  expect(entry.outputs['9']?.images).toEqual([{ filename: 'a.png', subfolder: '', type: 'output' }]);
  // No readable status: one made from the job's own.
  expect(historyFromJob(JobSchema.parse({ id: 'p2', status: 'completed', execution_status: null }))?.status).toEqual({ status_str: 'success', completed: true, messages: [] });
  for (const status of ['pending', 'in_progress'] as const) expect(historyFromJob(JobSchema.parse({ id: 'p3', status }))).toBeUndefined();
});
