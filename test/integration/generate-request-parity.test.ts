import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateCommand } from '../../src/cli/commands/generate.js';
import { ParameterInvalidError } from '../../src/errors.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { MAX_SAFE_SEED } from '../../src/workflows/parameters.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * `comfywire generate` and the MCP tool `generate_image` validate one request with one schema:
 * the same values go through both edges, and both refuse them (naming the flag, resp. the
 * argument, with the same rule) or both accept them (and build the same request). Acceptance is
 * the request reaching prepareGeneration: a stub records it there and stops, so nothing renders.
 */

const STOP = 'stopped before preparation (test)';
/** A configured limit (COMFYWIRE_MAX_PROMPT_CHARS), not the default: both edges must read the configuration. */
const MAX_PROMPT_CHARS = 300;

let h: Harness;
const prepared: GenerateRequest[] = [];

beforeAll(async () => {
  h = await startHarness({
    env: { COMFYWIRE_MAX_PROMPT_CHARS: String(MAX_PROMPT_CHARS) },
    deps: {
      prepare: async (_engine, request) => {
        prepared.push(request);
        throw new ParameterInvalidError(STOP);
      },
    },
  });
});
afterAll(async () => h.close());

interface EdgeResult {
  accepted: boolean;
  message: string;
  request?: GenerateRequest;
}

/** The CLI command in process: commander parses the words, a stub runner takes the request. */
async function viaCli(args: string[]): Promise<EdgeResult & { code: number }> {
  let request: GenerateRequest | undefined;
  let stderr = '';
  const command = generateCommand(
    async (r) => {
      request = r;
      return 0;
    },
    () => h.config.limits,
  )
    .exitOverride()
    .configureOutput({ writeErr: (s) => void (stderr += s), writeOut: () => undefined });
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  process.exitCode = undefined;
  try {
    await command.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { accepted: request !== undefined, message: stderr, code, ...(request ? { request } : {}) };
}

async function viaMcp(args: Record<string, unknown>): Promise<EdgeResult> {
  prepared.length = 0;
  const r = await h.call('generate_image', args);
  expect(r.isError).toBe(true); // the stub always stops it
  const message = textOf(r);
  const request = prepared[0];
  return { accepted: message.includes(STOP), message, ...(request ? { request } : {}) };
}

/** One request field: the argument, the flag, and the same value as JSON and as typed. */
interface Row {
  key: string;
  flag: string;
  json: unknown;
  text: string;
  ok: boolean;
}

const field = (key: string, flag: string) => (json: unknown, ok: boolean, text = String(json)): Row => ({ key, flag, json, text, ok });
const seed = field('seed', '--seed');
const steps = field('steps', '--steps');
const cfg = field('cfg', '--cfg');
const width = field('width', '--width');
const height = field('height', '--height');
const batch = field('batch_size', '--batch');
const denoise = field('denoise', '--denoise');
const negative = field('negative_prompt', '--negative');

const ROWS: Row[] = [
  seed(0, true),
  seed(42, true),
  seed(MAX_SAFE_SEED, true),
  seed(MAX_SAFE_SEED + 1, false),
  seed(-1, false),
  seed(1.5, false),
  seed('abc', false),
  steps(1, true),
  steps(100_000, true), // the template's range (1..150 here) is checked later, the same way for both
  steps(0, false),
  steps(2.5, false),
  steps('', false),
  cfg(0, true),
  cfg(7.5, true),
  cfg(-0.5, false),
  cfg('seven', false),
  width(512, true),
  width(0, false),
  width(511.5, false),
  height(768, true),
  height(-8, false),
  batch(4, true),
  batch(0, false),
  denoise(0, true),
  denoise(1, true),
  denoise(0.35, true),
  denoise(1.01, false),
  denoise(-0.1, false),
  negative('', true),
  negative('blurry', true),
  negative('x'.repeat(MAX_PROMPT_CHARS), true),
  negative('x'.repeat(MAX_PROMPT_CHARS + 1), false),
  ...(['workflow', 'sampler', 'scheduler', 'checkpoint'] as const).flatMap((key) => [
    field(key, `--${key}`)('some-name', true),
    field(key, `--${key}`)('', false),
  ]),
  field('input_image', '--image')('', false),
];

describe('one request shape: the CLI and generate_image agree', () => {
  const label = (r: Row) => `${r.key} ${typeof r.json === 'string' && r.json.length > 20 ? `(${r.json.length} characters)` : JSON.stringify(r.json)}`;
  it.each(ROWS.map((r) => [label(r), r] as const))('%s', async (_name, row) => {
    const cli = await viaCli(['a red fox', row.flag, row.text]);
    const mcp = await viaMcp({ prompt: 'a red fox', [row.key]: row.json });
    expect([row.key, cli.accepted, mcp.accepted]).toEqual([row.key, row.ok, row.ok]);
    if (row.ok) {
      expect(cli.code).toBe(0);
      expect(cli.request).toEqual(mcp.request);
      expect(cli.request).toMatchObject({ [row.key]: row.json });
      return;
    }
    expect(cli.code).toBe(2);
    // The CLI names the flag, MCP the argument, and both give the schema's one rule for it.
    const line = cli.message.split('\n').find((l) => l.startsWith(`error: ${row.flag}: `));
    expect(line).toBeDefined();
    const rule = line!.slice(`error: ${row.flag}: `.length);
    expect(rule).toMatch(new RegExp(`^${row.key} `));
    expect(mcp.message).toContain(rule);
  });

  it('the prompt argument: the same length limit on both edges', async () => {
    const long = 'x'.repeat(MAX_PROMPT_CHARS + 1);
    const cli = await viaCli([long]);
    const mcp = await viaMcp({ prompt: long });
    expect([cli.accepted, mcp.accepted, cli.code]).toEqual([false, false, 2]);
    expect(cli.message).toContain(`error: <prompt>: prompt is ${MAX_PROMPT_CHARS + 1} characters; the limit is ${MAX_PROMPT_CHARS}.`);
    expect(mcp.message).toContain(`prompt is ${MAX_PROMPT_CHARS + 1} characters; the limit is ${MAX_PROMPT_CHARS}.`);
  });

  it('a full request: every flag maps to its key, and both edges build the same request', async () => {
    const image = path.join(h.outputDir, 'start.png');
    // An image by its first bytes (uploads are checked by content); the stub stops before the upload.
    writeFileSync(image, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    const request = {
      workflow: 'sd15-img2img',
      prompt: 'a red fox',
      negative_prompt: 'blurry',
      seed: 7,
      steps: 12,
      cfg: 6.5,
      width: 512,
      height: 640,
      batch_size: 2,
      sampler: 'euler',
      scheduler: 'karras',
      checkpoint: 'v1-5-pruned-emaonly.safetensors',
      denoise: 0.6,
      input_image: realpathSync(image),
      params: { filename_prefix: 'fox' },
    };
    const cli = await viaCli([
      'a red fox', '--workflow', 'sd15-img2img', '--negative', 'blurry', '--seed', '7', '--steps', '12', '--cfg', '6.5',
      '--width', '512', '--height', '640', '--batch', '2', '--sampler', 'euler', '--scheduler', 'karras',
      '--checkpoint', 'v1-5-pruned-emaonly.safetensors', '--denoise', '0.6', '--image', realpathSync(image), '-p', 'filename_prefix=fox',
    ]);
    const mcp = await viaMcp(request);
    expect(cli.request).toEqual(request);
    expect(mcp.request).toEqual(request);
  });

  it('several bad values: every one is reported, by flag and by argument', async () => {
    const cli = await viaCli(['a red fox', '--steps', '0', '--cfg', '-1', '--batch', '1.5']);
    const mcp = await viaMcp({ prompt: 'a red fox', steps: 0, cfg: -1, batch_size: 1.5 });
    expect(cli.code).toBe(2);
    for (const [flag, key] of [['--steps', 'steps'], ['--cfg', 'cfg'], ['--batch', 'batch_size']]) {
      expect(cli.message).toContain(`error: ${flag}: ${key} must be`);
      expect(mcp.message).toContain(`${key} must be`);
    }
  });
});
