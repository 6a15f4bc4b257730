import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CompleteRequest } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type Harness } from './mcp-harness.js';
import { SIMULATOR_CHECKPOINTS } from '../../src/simulator/index.js';

/**
 * completion/complete through the real SDK client: prompt arguments and resource-template
 * variables complete to workflow names, checkpoint names, prompt ids and output files, by
 * prefix, at most 100 at a time with `hasMore`; anything unknown completes to nothing.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ stepDelayMs: 5 });
});
afterAll(async () => h.close());

type Ref = CompleteRequest['params']['ref'];
const prompt = (name: string): Ref => ({ type: 'ref/prompt', name });
const template = (uri: string): Ref => ({ type: 'ref/resource', uri });

async function complete(ref: Ref, name: string, value: string, context?: Record<string, string>) {
  const { completion } = await h.client.complete({ ref, argument: { name, value }, ...(context ? { context: { arguments: context } } : {}) });
  return completion;
}

test('the capability is declared, and the conformance suite\'s completion-complete request gets a list, not an error', async () => {
  expect(h.client.getServerCapabilities()?.completions).toEqual({});
  // What modelcontextprotocol/conformance sends (src/scenarios/server/utils.ts): a prompt this server does not have.
  const { completion } = await h.client.complete({
    ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
    argument: { name: 'arg1', value: 'test' },
  });
  expect(Array.isArray(completion.values)).toBe(true);
  expect(completion).toEqual({ values: [], hasMore: false });
});

test('anything unknown completes to an empty list: an argument, a prompt, a template, a variable', async () => {
  const empty = { values: [], hasMore: false };
  expect(await complete(prompt('explain_workflow'), 'colour', 's')).toEqual(empty);
  expect(await complete(prompt('generate_variations'), 'idea', 'a')).toEqual(empty);
  expect(await complete(prompt('no_such_prompt'), 'workflow', 's')).toEqual(empty);
  expect(await complete(template('comfywire://nothing/{x}'), 'x', '')).toEqual(empty);
  expect(await complete(template('comfywire://workflows/{name}'), 'colour', '')).toEqual(empty);
  // The server still answers.
  expect((await complete(prompt('explain_workflow'), 'workflow', 'sd15-t')).values).toEqual(['sd15-txt2img']);
});

test('workflow names, by prefix and case-insensitively, for both prompts and the workflows template', async () => {
  const sd15 = ['sd15-animation', 'sd15-img2img', 'sd15-inpaint', 'sd15-lora', 'sd15-txt2img', 'sd15-video'];
  const all = ['multi-output', ...sd15, 'sdxl-txt2img', 'upscale'];
  expect((await complete(prompt('explain_workflow'), 'workflow', 'sd15')).values).toEqual(sd15);
  expect((await complete(prompt('explain_workflow'), 'workflow', 'SD15-I')).values).toEqual(['sd15-img2img', 'sd15-inpaint']);
  expect((await complete(prompt('generate_variations'), 'workflow', '')).values).toEqual(all);
  expect((await complete(template('comfywire://workflows/{name}'), 'name', 'sd15-t')).values).toEqual(['sd15-txt2img']);
  expect((await complete(prompt('explain_workflow'), 'workflow', 'zzz')).values).toEqual([]);
});

test('checkpoint names as ComfyUI\'s checkpoint loader offers them, for generate_variations', async () => {
  expect((await complete(prompt('generate_variations'), 'checkpoint', '')).values).toEqual([...SIMULATOR_CHECKPOINTS]);
  expect((await complete(prompt('generate_variations'), 'checkpoint', 'V1')).values).toEqual(['v1-5-pruned-emaonly.safetensors']);
  // The argument reaches the prompt's text.
  const got = await h.client.getPrompt({ name: 'generate_variations', arguments: { idea: 'a fox', checkpoint: 'sd15-random.safetensors' } });
  expect((got.messages[0]!.content as { text: string }).text).toMatch(/"checkpoint": "sd15-random\.safetensors"/);
});

test('prompt ids of recent jobs (debug_last_failure, the jobs template) and output files (the outputs template)', async () => {
  const r = await h.call('generate_image', { prompt: 'a fox', steps: 2, width: 64, height: 64 });
  const { prompt_id: id, files } = r.structuredContent as { prompt_id: string; files: Array<{ filename: string; uri: string }> };
  const head = id.slice(0, 6);
  expect((await complete(prompt('debug_last_failure'), 'prompt_id', head)).values).toEqual([id]);
  expect((await complete(template('comfywire://jobs/{prompt_id}'), 'prompt_id', head.toUpperCase())).values).toEqual([id]);
  expect((await complete(template('comfywire://outputs/{prompt_id}/{file}'), 'prompt_id', head)).values).toEqual([id]);
  const file = await complete(template('comfywire://outputs/{prompt_id}/{file}'), 'file', '', { prompt_id: id });
  expect(file.values).toHaveLength(1);
  expect(files[0]!.uri).toContain(encodeURIComponent(file.values[0]!));
  // Without the job, no files to offer.
  expect((await complete(template('comfywire://outputs/{prompt_id}/{file}'), 'file', '')).values).toEqual([]);
});

test('at most 100 values, with the total and hasMore, and the prefix narrows them', async () => {
  for (let i = 0; i < 150; i++) {
    const folder = path.join(h.outputDir, `batch-${String(i).padStart(3, '0')}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'a.png'), '');
  }
  const all = await complete(template('comfywire://outputs/{prompt_id}/{file}'), 'prompt_id', 'batch-');
  expect(all.values).toHaveLength(100);
  expect(all).toMatchObject({ total: 150, hasMore: true });
  expect(all.values.every((v) => v.startsWith('batch-'))).toBe(true);
  const narrow = await complete(template('comfywire://outputs/{prompt_id}/{file}'), 'prompt_id', 'batch-14');
  expect(narrow.values.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `batch-14${i}`));
  expect(narrow).toMatchObject({ total: 10, hasMore: false });
});

test('with ComfyUI down, checkpoint completion is empty rather than an error; local names still complete', async () => {
  const down = await startHarness({ comfyDown: true });
  try {
    const { completion } = await down.client.complete({ ref: prompt('generate_variations'), argument: { name: 'checkpoint', value: '' } });
    expect(completion).toMatchObject({ values: [], hasMore: false });
    const names = await down.client.complete({ ref: prompt('generate_variations'), argument: { name: 'workflow', value: 'sd' } });
    expect(names.completion.values).toEqual(['sd15-animation', 'sd15-img2img', 'sd15-inpaint', 'sd15-lora', 'sd15-txt2img', 'sd15-video', 'sdxl-txt2img']);
  } finally {
    await down.close();
  }
});
