import fc from 'fast-check';
import { ParameterInvalidError } from '../../src/errors.js';
import { prepareGeneration } from '../../src/generation/prepare.js';
import { startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * Issue 8's hostile caller, in small: 300 malformed tool calls (wrong types, huge strings, control
 * characters, prototype names, nested junk) through the real MCP client and server. No answer may
 * exceed 2 KB of text, none may be an "unexpected error", and the server answers throughout.
 * A request that passes every check stops after preparation: the fuzz is about refusals, and
 * renders would only make it slow.
 */

const PREPARED = 'prepared, not submitted (fuzz)';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    stepDelayMs: 1,
    deps: {
      prepare: async (engine, request) => {
        await prepareGeneration(engine, request);
        throw new ParameterInvalidError(PREPARED);
      },
    },
  });
});
afterAll(async () => h.close());

const TOOLS = ['generate_image', 'get_workflow_status', 'cancel_job', 'get_queue', 'list_models', 'list_workflows', 'get_system_stats', 'upload_image'];
const KEYS = [
  'prompt', 'negative_prompt', 'workflow', 'seed', 'steps', 'cfg', 'width', 'height', 'batch_size', 'sampler', 'scheduler',
  'checkpoint', 'denoise', 'input_image', 'params', 'prompt_id', 'folder', 'path', 'subfolder', 'recent', 'download', 'timeout_s',
];
const PROTO = ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf', 'prototype'];

/** Nasty strings: huge, controls, bidi, lone surrogates, prototype names, path tricks. */
const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 3, arbitrary: fc.constantFrom(...PROTO, '', ' ', '..', '../../etc/passwd', '.env', '\u0000', '\u001b[2J', '\u202e', '\ud800', '%00', 'a,b/c') },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'é', '🦊', '\u0000', '\u001b'), fc.integer({ min: 1_000, max: 100_000 })).map(([c, n]) => c.repeat(n)) },
);
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 10 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...PROTO, ...KEYS), fc.string({ maxLength: 300 })), nastyString, { maxKeys: 10 }) },
);
/** A few keys of the tool (or not), each set to something nasty; generate_image never waits. */
const call = fc.record({
  tool: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...TOOLS) }, { weight: 1, arbitrary: nastyString }),
  args: fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.constantFrom(...PROTO) }), nastyValue, {
    minKeys: 1,
    maxKeys: 4,
  }),
});

it('300 malformed calls: every answer is short, none is "a comfywire bug", and the server keeps answering', async () => {
  const longest = { length: 0, tool: '' };
  await fc.assert(
    fc.asyncProperty(call, async ({ tool, args }) => {
      // JSON's own-property "__proto__", as a client would send it.
      const sent = JSON.parse(JSON.stringify(args)) as Record<string, unknown>;
      if (tool === 'generate_image') sent['wait'] = false;
      let text: string;
      let result: Awaited<ReturnType<Harness['call']>>;
      try {
        result = await h.call(tool, sent);
        text = textOf(result);
      } catch (error) {
        // The SDK refuses, before any tool runs, an arguments object with a top-level
        // "constructor" key (zod's record check takes it for a class instance): a protocol
        // error, short, and the server goes on. Nothing else may throw.
        const message = String(error);
        expect(Object.hasOwn(sent, 'constructor')).toBe(true);
        expect(message.length).toBeLessThanOrEqual(2048);
        return;
      }
      if (result.isError && text.length > longest.length) Object.assign(longest, { length: text.length, tool });
      expect(text).not.toMatch(/likely a comfywire bug|Unexpected error/);
      if (result.isError) expect(text.length).toBeLessThanOrEqual(2048);
    }),
    { numRuns: 300, seed: 8 },
  );
  // A well-formed call after all that.
  const q = await h.call('get_queue');
  expect(q.isError).toBeFalsy();
  const status = await h.call('get_workflow_status', {});
  expect(status.isError).toBeFalsy();
  expect(longest.length).toBeGreaterThan(0);
}, 120_000);
