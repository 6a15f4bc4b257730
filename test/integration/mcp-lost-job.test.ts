import { existsSync } from 'node:fs';
import { startHarness, textOf, type Harness } from './mcp-harness.js';
import { eventually } from '../helpers/wait.js';

/**
 * A job comfywire lost track of (its socket gave up, ComfyUI was unreachable for a while) may have
 * run on in ComfyUI. get_workflow_status then answers from ComfyUI's own record, downloads the
 * outputs, and says that comfywire had lost it; without such a record, the lost state stands.
 */

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ stepDelayMs: 30 });
});
afterEach(async () => h.close());

async function loseWhileRunning(steps: number): Promise<string> {
  const r = await h.call('generate_image', { prompt: 'lost', steps, width: 64, height: 64, wait: false });
  expect(r.isError).toBeFalsy();
  const id = (r.structuredContent as { prompt_id: string }).prompt_id;
  const job = h.engine.jobs.active(id)!;
  await eventually(() => (job.state.status === 'running' ? true : undefined));
  await h.engine.jobs.loseAll('the test pulled the plug');
  expect(h.engine.jobs.get(id)?.status).toBe('lost');
  return id;
}

test('a lost job that finished in ComfyUI is reported from history, with its files downloaded', async () => {
  const id = await loseWhileRunning(20);
  const status = await eventually(async () => {
    const r = await h.call('get_workflow_status', { prompt_id: id });
    return (r.structuredContent as { job: { status: string } }).job.status === 'success' ? r : undefined;
  });
  expect(status.isError).toBeFalsy();
  expect(textOf(status)).toMatch(/had lost track of this job \(the test pulled the plug\)/);
  const files = (status.structuredContent as { job: { files: Array<{ path: string }> } }).job.files;
  expect(files).toHaveLength(1);
  expect(existsSync(files[0]!.path)).toBe(true);
});

test('a lost job ComfyUI does not know either keeps its lost state and reason', async () => {
  const id = await loseWhileRunning(100);
  await h.sim.faults.restart(); // ComfyUI forgets its queue and history
  const r = await h.call('get_workflow_status', { prompt_id: id });
  expect(r.isError).toBeFalsy();
  expect((r.structuredContent as { job: { status: string } }).job.status).toBe('lost');
  expect(textOf(r)).toMatch(/the test pulled the plug/);
});
