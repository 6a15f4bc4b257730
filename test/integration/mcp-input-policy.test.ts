import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * Issue 8's input findings, through the real MCP client and server against the simulator:
 * prompt limits that were bypassed, errors that echoed the input whole, prototype names taken
 * for entries. Each case asserts the exact text, that nothing reached ComfyUI when the call was
 * refused, and that the server answers the next call.
 */

let h: Harness;

beforeAll(async () => {
  // The harness turns the rate limits and the job cap off: these calls are many on purpose.
  h = await startHarness({ stepDelayMs: 1 });
});
afterAll(async () => h.close());

/** Prompts ComfyUI has seen: queued, running or in its history. */
async function promptsAtComfy(): Promise<number> {
  const [queue, history] = await Promise.all([h.engine.client.getQueue(), h.engine.client.getHistoryList({ maxItems: 10_000 })]);
  return queue.running.length + queue.pending.length + history.length;
}

afterEach(async () => {
  // The server keeps serving after every refusal.
  const q = await h.call('get_queue');
  expect(q.isError).toBeFalsy();
});

/** The call's one text, checked to be an error. */
async function refused(tool: string, args: Record<string, unknown>): Promise<string> {
  const before = await promptsAtComfy();
  const r: CallToolResult = await h.call(tool, args);
  expect(r.isError).toBe(true);
  expect(await promptsAtComfy()).toBe(before);
  return textOf(r);
}

const SCHEMA = (tool: string) => `MCP error -32602: Input validation error: Invalid arguments for tool ${tool}: `;
const DESCRIBE = 'Describe the image to generate (subject, style, lighting, composition).';
const SHORTEN = 'Shorten it to the description of the image (subject, style, lighting, composition).';
const CONTROL_HINT = 'only newline and tab are allowed. Remove it and send plain text.';

describe('prompt limits (finding "Prompt limits bypassed")', () => {
  it('params.prompt of 1 MB is refused like prompt, with the configured limit; nothing reaches ComfyUI', async () => {
    expect(await refused('generate_image', { params: { prompt: 'z'.repeat(1_000_000) } })).toBe(
      `${SCHEMA('generate_image')}params.prompt is 1000000 characters; the limit is 4000. ${SHORTEN} at params`,
    );
  });

  it('the limit, both sides: 4,000 characters pass, 4,001 do not', async () => {
    expect(await refused('generate_image', { prompt: 'x'.repeat(4001), wait: false })).toBe(
      `${SCHEMA('generate_image')}prompt is 4001 characters; the limit is 4000. ${SHORTEN} at prompt`,
    );
    const ok = await h.call('generate_image', { prompt: 'x'.repeat(4000), wait: false });
    expect(ok.isError).toBeFalsy();
    await h.engine.job(String(ok.structuredContent?.['prompt_id']))?.done;
  });

  it.each([
    ['empty', '', `prompt is empty. ${DESCRIBE}`],
    ['whitespace-only', ' \n\t ', `prompt is only whitespace. ${DESCRIBE}`],
    ['NUL', 'a fox\u0000', `prompt contains a control character (U+0000 NUL) at index 5 (counting characters from 0); ${CONTROL_HINT}`],
    [
      'an ANSI escape sequence',
      'a \u001b[31mred\u001b[0m fox',
      `prompt contains a control character (U+001B ESC, which starts a terminal escape sequence) at index 2 (counting characters from 0); ${CONTROL_HINT}`,
    ],
    [
      'a bidi override',
      'a fox \u202eedisni',
      `prompt contains a bidirectional control (U+202E RLO, which reorders how text is displayed) at index 6 (counting characters from 0); ${CONTROL_HINT}`,
    ],
    [
      'a lone surrogate',
      '🦊 \ud83e',
      `prompt contains a lone surrogate (U+D83E, half of a UTF-16 pair without its other half) at index 2 (counting characters from 0); ${CONTROL_HINT}`,
    ],
    ['a C1 control', 'fox\u009b', `prompt contains a C1 control character (U+009B) at index 3 (counting characters from 0); ${CONTROL_HINT}`],
  ])('a prompt with %s is refused, saying where', async (_label, prompt, message) => {
    expect(await refused('generate_image', { prompt })).toBe(`${SCHEMA('generate_image')}${message} at prompt`);
  });

  it('the same rules hold for negative_prompt and for text in params', async () => {
    expect(await refused('generate_image', { prompt: 'a fox', negative_prompt: 'blur\u0007' })).toBe(
      `${SCHEMA('generate_image')}negative_prompt contains a control character (U+0007 BEL) at index 4 (counting characters from 0); ${CONTROL_HINT} at negative_prompt`,
    );
    expect(await refused('generate_image', { prompt: 'a fox', params: { filename_prefix: 'fox\u001b]0;pwned\u0007' } })).toBe(
      `${SCHEMA('generate_image')}params.filename_prefix contains a control character (U+001B ESC, which starts a terminal escape sequence) at index 3 (counting characters from 0); ${CONTROL_HINT} at params`,
    );
    expect(await refused('generate_image', { params: { prompt: '   ' } })).toBe(`${SCHEMA('generate_image')}params.prompt is only whitespace. ${DESCRIBE} at params`);
  });

  it('text reaches ComfyUI in NFC: a decomposed "é" arrives composed', async () => {
    const r = await h.call('generate_image', { prompt: 'cafe\u0301 au lait', negative_prompt: 'blurry' });
    expect(r.isError).toBeFalsy();
    const entry = await h.engine.client.getHistory(String(r.structuredContent?.['prompt_id']));
    const prompt = entry!.prompt[2] as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    const texts = Object.values(prompt)
      .filter((n) => n.class_type === 'CLIPTextEncode')
      .map((n) => n.inputs['text']);
    expect(texts).toContain('caf\u00e9 au lait');
  });
});

describe('errors quote a short excerpt (finding "Errors that echo the input")', () => {
  const ID_RULE = 'prompt_id must be a prompt_id such as 0f4c6f1e-2b7a-4d0a-9c1e-5b8d2a7c9e31 (from generate_image or get_queue)';
  const longId = 'x'.repeat(70_000);

  it.each(['get_workflow_status', 'cancel_job'])('%s: a 70,000-character prompt_id gets a short answer, not "HTTP 431"', async (tool) => {
    const text = await refused(tool, { prompt_id: longId });
    expect(text).toBe(`${SCHEMA(tool)}${ID_RULE}; got "${'x'.repeat(24)}…" (70000 characters), over the 128-character limit. at prompt_id`);
  });

  it('scheduler, folder and path are capped too, each with a short answer', async () => {
    expect(await refused('generate_image', { prompt: 'a fox', scheduler: 'k'.repeat(100_000) })).toBe(
      `${SCHEMA('generate_image')}scheduler must be a scheduler name, e.g. normal or karras; got "${'k'.repeat(24)}…" (100000 characters), ` +
        "over the 256-character limit. Leave it out to keep the workflow's own. at scheduler",
    );
    expect(await refused('list_models', { folder: 'f'.repeat(100_000) })).toBe(
      `${SCHEMA('list_models')}folder must be a model folder such as "checkpoints" or "loras" (list_models without folder lists them); ` +
        `got "${'f'.repeat(24)}…" (100000 characters), over the 64-character limit. at folder`,
    );
    expect(await refused('upload_image', { path: 'p'.repeat(100_000) })).toBe(
      `${SCHEMA('upload_image')}path must be the path of a local image file (PNG, JPEG, WebP, GIF, BMP or TIFF); got "${'p'.repeat(24)}…" (100000 characters), ` +
        'over the 1024-character limit. at path',
    );
  });

  it('a 1 MB string in a number field is quoted as 60 characters and its length', async () => {
    expect(await refused('generate_image', { prompt: 'a fox', steps: 'y'.repeat(1_000_000) })).toBe(
      `${SCHEMA('generate_image')}steps must be a whole number, at least 1; got "${'y'.repeat(60)}…" (1000000 characters). 20-30 is usual; more is slower. at steps`,
    );
  });

  it('control characters in a quoted value come back escaped', async () => {
    expect(await refused('cancel_job', { prompt_id: 'a\u001b[2Jb' })).toBe(
      `${SCHEMA('cancel_job')}${ID_RULE}; got "a\\u001b[2Jb", which contains a control character (U+001B ESC, which starts a terminal escape sequence) at index 1. at prompt_id`,
    );
  });

  it('many bad fields: the first three problems, then how many more', async () => {
    const text = await refused('generate_image', { prompt: 5, steps: 'x', cfg: 'x', width: 'x', height: 'x', seed: 'x' });
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toMatch(/\n\(3 more problems not shown: fix these first\)$/);
  });

  it('an unknown tool with a 1 MB name is named by an excerpt', async () => {
    const r = await h.call('t'.repeat(1_000_000));
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(`No tool is named "${'t'.repeat(60)}…" (1000000 characters). tools/list shows the tools of this server.`);
  });

  it('a resource URI and a prompt argument get the same rules', async () => {
    await expect(h.client.readResource({ uri: `comfywire://jobs/${'j'.repeat(50_000)}` })).rejects.toThrow(
      // (The client puts its own "MCP error -32002: " in front of the server's message.)
      / Resource not found: "comfywire:\/\/jobs\/j{83}…" \(50017 characters\): prompt_id must be a prompt_id such as .* over the 128-character limit\.$/,
    );
    await expect(h.client.getPrompt({ name: 'generate_variations', arguments: { idea: 'a fox\u0000' } })).rejects.toThrow(
      'MCP error -32602: Invalid arguments for prompt generate_variations: idea contains a control character (U+0000 NUL) at index 5 (counting characters from 0); ' +
        `${CONTROL_HINT} at idea`,
    );
    const ok = await h.client.getPrompt({ name: 'generate_variations', arguments: { idea: 'a fox' } });
    expect(ok.messages).toHaveLength(1);
  });
});

describe('prototype names are unknown names (finding "Prototype names")', () => {
  const unknownJob = (id: string) =>
    `No job with prompt_id ${id} is known to this server or to ComfyUI.\n` +
    'Check the id (get_queue lists running and pending jobs, get_workflow_status without an id lists recent ones). ComfyUI forgets its history when it restarts.';

  it.each(['constructor', '__proto__', 'hasOwnProperty', 'toString'])('%s as a prompt_id is an unknown job, for status and for cancel', async (id) => {
    expect(await refused('get_workflow_status', { prompt_id: id })).toBe(unknownJob(id));
    expect(await refused('cancel_job', { prompt_id: id })).toBe(unknownJob(id));
    const r = await h.client.readResource({ uri: `comfywire://jobs/${id}` }).catch((e: Error) => e);
    expect(String(r)).toMatch(new RegExp(`Resource not found: comfywire://jobs/${id}: neither this server nor ComfyUI's queue and history know prompt ${id}`));
  });

  it('as a workflow, a params key or a checkpoint they are unknown like any other name', async () => {
    expect(await refused('generate_image', { prompt: 'a fox', workflow: 'constructor' })).toMatch(/^No workflow template named "constructor"\.\nAvailable templates: /);
    expect(await refused('generate_image', { prompt: 'a fox', params: { constructor: 1 } })).toMatch(/^Workflow "sd15-txt2img" has no parameter "constructor"\./);
    expect(await refused('generate_image', JSON.parse('{"prompt": "a fox", "params": {"__proto__": "x"}}') as Record<string, unknown>)).toMatch(
      /^Workflow "sd15-txt2img" has no parameter "__proto__"\./,
    );
    expect(await refused('generate_image', { prompt: 'a fox', checkpoint: 'hasOwnProperty' })).toMatch(/^checkpoint "hasOwnProperty" is not an allowed value/);
  });

  it('the next generation still works', async () => {
    const r = await h.call('generate_image', { prompt: 'a fox' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent?.['status']).toBe('success');
  });
});
