import type { GetPromptResult } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type Harness } from './mcp-harness.js';

/** The prompts against a real engine and simulator: listed with described arguments, filled with real context. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 5 });
});
afterAll(async () => h.close());

const textOf = (r: GetPromptResult): string =>
  r.messages.map((m) => (m.content.type === 'text' ? m.content.text : '')).join('\n');

test('lists the three prompts with every argument described', async () => {
  const { prompts } = await h.client.listPrompts();
  expect(prompts.map((p) => p.name).sort()).toEqual(['debug_last_failure', 'explain_workflow', 'generate_variations']);
  for (const p of prompts) {
    expect(p.description).toBeTruthy();
    for (const a of p.arguments ?? []) expect(a.description).toBeTruthy();
  }
  const variations = prompts.find((p) => p.name === 'generate_variations')!;
  expect(variations.arguments?.find((a) => a.name === 'idea')?.required).toBe(true);
});

test('generate_variations names the idea, the count and the real templates', async () => {
  const r = await h.client.getPrompt({ name: 'generate_variations', arguments: { idea: 'a lighthouse at dusk', count: '3' } });
  const text = textOf(r);
  expect(text).toContain('a lighthouse at dusk');
  expect(text).toContain('Generate 3 variations');
  expect(text).toContain('sd15-txt2img (default)');
  expect(text).toContain('sd15-img2img');
  expect(text).toContain('generate_image');
});

test('generate_variations clamps the count', async () => {
  const r = await h.client.getPrompt({ name: 'generate_variations', arguments: { idea: 'x', count: '50' } });
  expect(textOf(r)).toContain('Generate 8 variations');
});

test('explain_workflow embeds the template parameters and completes template names', async () => {
  const r = await h.client.getPrompt({ name: 'explain_workflow', arguments: { workflow: 'sd15-txt2img' } });
  const text = textOf(r);
  expect(text).toContain('Template: sd15-txt2img');
  expect(text).toMatch(/- seed \(/);
  expect(text).toMatch(/- steps \(integer/);
  expect(text).toContain('list_workflows');
  const done = await h.client.complete({ ref: { type: 'ref/prompt', name: 'explain_workflow' }, argument: { name: 'workflow', value: 'sd15-i' } });
  expect(done.completion.values).toEqual(['sd15-img2img', 'sd15-inpaint']);
});

test('explain_workflow on an unknown template lists the real ones instead', async () => {
  const text = textOf(await h.client.getPrompt({ name: 'explain_workflow', arguments: { workflow: 'nope' } }));
  expect(text).toContain('could not be read');
  expect(text).toContain('sd15-txt2img');
});

test('debug_last_failure without a failure says so; after one it embeds its id and error', async () => {
  expect(textOf(await h.client.getPrompt({ name: 'debug_last_failure', arguments: {} }))).toContain('has not seen a failed job');

  h.sim.faults.failNode({ classType: 'KSampler' }, 'boom from the prompts test');
  try {
    const r = await h.call('generate_image', { prompt: 'will fail', steps: 2 });
    expect(r.isError).toBe(true);
  } finally {
    h.sim.faults.clearNodeFaults();
  }
  const failed = h.engine.jobs.recent().find((s) => s.status === 'error')!;
  const text = textOf(await h.client.getPrompt({ name: 'debug_last_failure', arguments: {} }));
  expect(text).toContain(failed.promptId);
  expect(text).toContain('boom from the prompts test');
  expect(text).toContain('KSampler');
  expect(text).toContain(`get_workflow_status with prompt_id "${failed.promptId}"`);
});
