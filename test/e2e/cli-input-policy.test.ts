import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

/**
 * `comfywire generate` holds the prompt to the same policy and the configured limit as the MCP
 * tool (issue 8, "the CLI has no limit at all"): a refusal is a usage error (exit 2) with one
 * short line naming the flag, before anything is sent; a prompt at the limit renders.
 */

let out: string;
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'comfywire-cli-policy-'));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

const LIMIT = '100';
/** No ComfyUI anywhere: a refused request must not need one. */
const env = () => ({ COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_MAX_PROMPT_CHARS: LIMIT, COMFYUI_URL: 'http://127.0.0.1:9' });

it('the configured prompt limit, both sides: 101 characters exit 2, 100 render', async () => {
  const over = await runCli(['generate', 'x'.repeat(101)], { env: env() });
  expect(over.code).toBe(2);
  expect(over.stderr).toBe(
    'error: <prompt>: prompt is 101 characters; the limit is 100. Shorten it to the description of the image (subject, style, lighting, composition).\n',
  );
  const at = await runCli(['generate', 'x'.repeat(100), '--simulate', '--steps', '2', '--width', '64', '--height', '64'], {
    env: env(),
  });
  expect(at.code).toBe(0);
  expect(at.stdout.trim().startsWith(out)).toBe(true);
});

it('control characters, empty prompts and long names exit 2 with short lines that say where', async () => {
  const esc = await runCli(['generate', 'a \u001b[2Jfox', '--negative', 'x\u202e'], { env: env() });
  expect(esc.code).toBe(2);
  expect(esc.stderr.split('\n')).toEqual([
    'error: <prompt>: prompt contains a control character (U+001B ESC, which starts a terminal escape sequence) at index 2 (counting characters from 0); only newline and tab are allowed. Remove it and send plain text.',
    'error: --negative: negative_prompt contains a bidirectional control (U+202E RLO, which reorders how text is displayed) at index 1 (counting characters from 0); only newline and tab are allowed. Remove it and send plain text.',
    '',
  ]);

  const blank = await runCli(['generate', '   '], { env: env() });
  expect([blank.code, blank.stderr]).toEqual([2, 'error: <prompt>: prompt is only whitespace. Describe the image to generate (subject, style, lighting, composition).\n']);

  // 100,000 characters fit in one argv entry (Linux allows 128 KiB); the answer quotes 24 of them.
  const long = await runCli(['generate', 'a fox', '--scheduler', 's'.repeat(100_000), '--param', `${'k'.repeat(100_000)}`], { env: env() });
  expect(long.code).toBe(2);
  expect(long.stderr.split('\n')).toEqual([
    `error: --param: takes name=value, e.g. filename_prefix=fox; got "${'k'.repeat(60)}…" (100000 characters).`,
    `error: --scheduler: scheduler must be a scheduler name, e.g. normal or karras; got "${'s'.repeat(24)}…" (100000 characters), over the 256-character limit. ` +
      "Leave it out to keep the workflow's own.",
    '',
  ]);

  const proto = await runCli(['generate', 'a fox', '--param', '__proto__=x', '--param', 'prompt=\u0007'], { env: env() });
  expect([proto.code, proto.stderr]).toEqual([
    2,
    'error: --param: params.prompt contains a control character (U+0007 BEL) at index 0 (counting characters from 0); only newline and tab are allowed. Remove it and send plain text.\n',
  ]);
});
