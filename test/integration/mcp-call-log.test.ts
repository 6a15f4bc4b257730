import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import type { CallRecord } from '../../src/call-log/record.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';
import { eventually } from '../helpers/wait.js';

/**
 * Every MCP tool call leaves one line in the call log, through `guarded`, whatever the outcome:
 * a finished render, a handle (queued, then a second line when that job ends), a refused
 * request, a failed lookup. Real client, real engine, the simulator on loopback.
 */

interface GenerateOut {
  prompt_id: string;
  status: string;
}

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 20 });
});
afterAll(async () => h.close());

function lines(): CallRecord[] {
  try {
    return readFileSync(h.callLogFile!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CallRecord);
  } catch {
    return [];
  }
}

/** The lines about one prompt, once there are `n` of them (the file is written asynchronously). */
const linesFor = (promptId: string, n = 1) =>
  eventually(() => {
    const found = lines().filter((l) => l.prompt_id === promptId);
    return found.length >= n ? found : undefined;
  });

describe('the call log of an MCP server', () => {
  it('logs a finished render with its tool, workflow, prompt, prompt_id, host, status and duration, in a private file', async () => {
    const r = await h.call('generate_image', { prompt: 'a lighthouse at dusk', steps: 2, width: 64, height: 64 });
    expect(r.isError).toBeFalsy();
    const out = r.structuredContent as unknown as GenerateOut;
    const [line] = await linesFor(out.prompt_id);
    expect(line).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      tool: 'generate_image',
      status: 'success',
      workflow: 'sd15-txt2img',
      prompt: 'a lighthouse at dusk',
      prompt_id: out.prompt_id,
      host: h.sim.url,
      duration_ms: expect.any(Number),
    });
    expect(statSync(h.callLogFile!).mode & 0o777).toBe(0o600);
  });

  it('logs a handle as queued, then the job\'s end as a second line with the same prompt_id', async () => {
    h.sim.faults.slowNode({ classType: 'KSampler' }, 300);
    const r = await h.call('generate_image', { prompt: 'later', steps: 2, width: 64, height: 64, wait: false });
    const out = r.structuredContent as unknown as GenerateOut;
    expect(['queued', 'running']).toContain(out.status);
    const [first, second] = await linesFor(out.prompt_id, 2);
    expect(first).toMatchObject({ tool: 'generate_image', status: 'queued', prompt: 'later', workflow: 'sd15-txt2img' });
    expect(second).toMatchObject({ tool: 'generate_image', status: 'success', prompt: 'later', workflow: 'sd15-txt2img' });
    expect(second!.id).not.toBe(first!.id);
    expect(second!.duration_ms).toBeGreaterThanOrEqual(first!.duration_ms);
  });

  it('logs an interrupted job as interrupted, and the cancel_job call itself', async () => {
    h.sim.faults.clearNodeFaults();
    // Many short steps: an interrupt lands between two of them.
    const r = await h.call('generate_image', { prompt: 'never mind', steps: 150, width: 64, height: 64, wait: false });
    const id = (r.structuredContent as unknown as GenerateOut).prompt_id;
    await eventually(() => (h.engine.jobState(id)?.status === 'running' ? true : undefined));
    const cancel = await h.call('cancel_job', { prompt_id: id });
    expect(cancel.isError).toBeFalsy();
    const found = await linesFor(id, 3);
    expect(found.map((l) => `${l.tool} ${l.status}`).sort()).toEqual(['cancel_job success', 'generate_image interrupted', 'generate_image queued']);
  });

  it('logs a refused request with its error code, and the next call still works and is logged', async () => {
    const bad = await h.call('generate_image', { prompt: 'x', workflow: 'no-such-template' });
    expect(bad.isError).toBe(true);
    const refused = await eventually(() => lines().find((l) => l.workflow === 'no-such-template'));
    expect(refused).toMatchObject({ tool: 'generate_image', status: 'refused', error_code: 'WORKFLOW_NOT_FOUND', prompt: 'x' });
    expect(refused.prompt_id).toBeUndefined();

    const before = lines().filter((l) => l.tool === 'get_queue').length;
    const ok = await h.call('get_queue');
    expect(ok.isError).toBeFalsy();
    await eventually(() => (lines().filter((l) => l.tool === 'get_queue').length === before + 1 ? true : undefined));
  });

  it('logs calls the SDK refuses on their arguments (they never reach a tool) as refused, with what could be kept', async () => {
    const bad = await h.call('generate_image', { prompt: 'schema-refused', steps: 'many' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/^MCP error -32602: /);
    const line = await eventually(() => lines().find((l) => l.prompt === 'schema-refused'));
    expect(line).toMatchObject({ tool: 'generate_image', status: 'refused', error_code: 'PARAMETER_INVALID', duration_ms: 0 });
    const unknown = await h.call(`no_such_tool_${'z'.repeat(100)}`);
    expect(unknown.isError).toBe(true);
    const named = await eventually(() => lines().find((l) => l.tool.startsWith('"no_such_tool_')));
    expect(named.status).toBe('refused');
    expect(named.tool.length).toBeLessThan(100);
  });

  it('logs a failed lookup as an error with the id asked for (the longest id the input policy lets through)', async () => {
    // Longer ids never reach a tool: the input policy refuses them (mcp-input-policy.test.ts).
    const id = `missing-${'x'.repeat(120)}`;
    const r = await h.call('get_workflow_status', { prompt_id: id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/No job with prompt_id/);
    const line = await eventually(() => lines().find((l) => l.tool === 'get_workflow_status' && l.prompt_id?.startsWith('missing-')));
    expect(line.status).toBe('error');
    expect(line.prompt_id).toBe(id);
  });

  it('keeps at most 200 characters of a long prompt', async () => {
    h.sim.faults.clearNodeFaults();
    const prompt = `tagged-${'p'.repeat(3_000)}`;
    await h.call('generate_image', { prompt, steps: 1, width: 64, height: 64, wait: false });
    const line = await eventually(() => lines().find((l) => l.prompt?.startsWith('tagged-')));
    expect(Array.from(line.prompt!)).toHaveLength(200);
  });
});
