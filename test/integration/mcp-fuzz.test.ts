import fc from 'fast-check';
import { ParameterInvalidError } from '../../src/errors.js';
import { prepareGeneration } from '../../src/generation/prepare.js';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startHarness, textOf, type Harness } from './mcp-harness.js';
import { stressCount } from '../helpers/stress.js';

/**
 * Issue 8's hostile caller, in small: 300 malformed tool calls (wrong types, huge strings, control
 * characters, prototype names, nested junk) through the real MCP client and server. No answer may
 * exceed 2 KB of text, none may be an "unexpected error", and the server answers throughout.
 * A request that passes every check stops after preparation: the fuzz is about refusals, and
 * renders would only make it slow.
 */

const PREPARED = 'prepared, not submitted (fuzz)';

let h: Harness;
/** A copy of the templates: a call upload_workflow accepted would write there, never into the repository. */
let workflowsDir: string;

beforeAll(async () => {
  workflowsDir = mkdtempSync(join(tmpdir(), 'comfywire-fuzz-workflows-'));
  cpSync(join(REPO, 'workflows'), workflowsDir, { recursive: true });
  h = await startHarness({
    stepDelayMs: 1,
    env: { COMFYWIRE_WORKFLOWS_DIR: workflowsDir },
    deps: {
      prepare: async (engine, request) => {
        await prepareGeneration(engine, request);
        throw new ParameterInvalidError(PREPARED);
      },
    },
  });
});
afterAll(async () => {
  await h.close();
  rmSync(workflowsDir, { recursive: true, force: true });
});

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

// ---- 1,000 calls built from the tools' own input schemas (issue 10) ----------------------------

/** The parts of a tools/list property schema that say what is valid. */
interface PropSchema {
  type?: string | string[];
  anyOf?: PropSchema[];
}
interface ToolSchema {
  name: string;
  properties: Record<string, PropSchema>;
  required: string[];
}

const typesOf = (p: PropSchema): string[] => (p.anyOf ? p.anyOf.flatMap(typesOf) : p.type === undefined ? [] : [p.type].flat());
const fits = (type: string, v: unknown): boolean =>
  type === 'string' ? typeof v === 'string'
    : type === 'integer' ? Number.isInteger(v)
      : type === 'number' ? typeof v === 'number'
        : type === 'boolean' ? typeof v === 'boolean'
          : type === 'array' ? Array.isArray(v)
            : type === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v)
              : type === 'null' ? v === null : false;

const deep = (depth: number, leaf: unknown, kind: 'array' | 'object'): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
};
/** Values of every JSON type, deeply nested ones included: the ones that fit none of a property's types are wrong for it. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1.5, 1e308, true, false, null, '', 'x', [], [1], {}, { a: 1 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.tuple(fc.integer({ min: 50, max: 2_000 }), fc.constantFrom<'array' | 'object'>('array', 'object')).map(([d, k]) => deep(d, 'x', k)),
);
/** Characters the input policy refuses in every text, name and path (tab, LF and CR are allowed in prompts). */
const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000b', '\u000c', '\u000e', '\u001b', '\u001f', '\u007f'];

/** Valid values of the required fields: a real template for upload_workflow, a new name for it. */
const VALID: Record<string, unknown> = {
  workflow: JSON.parse(readFileSync(join(REPO, 'workflows', 'sd15-txt2img.json'), 'utf8')) as unknown,
  name: 'fuzz_upload',
};

type Mutation = { kind: string; field?: string; args: Record<string, unknown> };

function mutations(tool: ToolSchema): fc.Arbitrary<Mutation> {
  const props = Object.keys(tool.properties);
  const strings = props.filter((p) => typesOf(tool.properties[p]!).includes('string'));
  const kinds: Array<fc.Arbitrary<Mutation>> = [
    fc.constantFrom(...props).chain((field) =>
      anyJson.filter((v) => !typesOf(tool.properties[field]!).some((t) => fits(t, v))).map((v) => ({ kind: 'wrong type', field, args: { [field]: v } })),
    ),
  ];
  if (strings.length > 0) {
    kinds.push(
      fc.tuple(fc.constantFrom(...strings), fc.constantFrom('x', 'é', '🦊', 'a b'), fc.integer({ min: 100_001, max: 300_000 }))
        .map(([field, c, n]) => ({ kind: 'huge string', field, args: { [field]: c.repeat(Math.ceil(n / c.length)) } })),
      fc.tuple(fc.constantFrom(...strings), fc.string({ maxLength: 20 }), fc.constantFrom(...CONTROLS), fc.string({ maxLength: 20 }))
        .map(([field, a, c, b]) => ({ kind: 'control character', field, args: { [field]: `fuzz${a}${c}${b}` } })),
    );
  }
  const objects = props.filter((p) => typesOf(tool.properties[p]!).includes('object'));
  if (objects.length > 0) {
    // Own prototype names inside an object argument (zod's record check once threw a TypeError on {"constructor": null}).
    kinds.push(
      fc.tuple(fc.constantFrom(...objects), fc.constantFrom('{"constructor":null}', '{"constructor":{"prototype":null}}', '{"__proto__":{"polluted":1}}', '{"__proto__":null,"constructor":1}'))
        .map(([field, json]) => ({ kind: 'prototype keys', field, args: { [field]: JSON.parse(json) as unknown } })),
    );
  }
  if (tool.required.length > 0) {
    kinds.push(
      fc.constantFrom(...tool.required).map((field) => ({
        kind: 'missing',
        field,
        args: {},
      })),
    );
  }
  // Extra fields besides the fault, prototype names among them: never a way around it.
  const extras = fc.dictionary(fc.oneof(fc.constantFrom(...PROTO.filter((k) => k !== 'constructor')), fc.string({ maxLength: 30 })), nastyValue, { maxKeys: 3 });
  // The other required fields present and valid, so the fault is the one field.
  const base = (except?: string) => Object.fromEntries(tool.required.filter((r) => r !== except).map((r) => [r, VALID[r] ?? 'fuzz_name']));
  return fc.tuple(fc.oneof(...kinds), extras).map(([m, extra]) => ({ ...m, args: { ...extra, ...base(m.field), ...m.args } }));
}

it(`1,000 calls made from the tools' own input schemas (wrong types, missing fields, huge strings, controls, deep nesting, prototype keys): each an isError result that names the field, and the next valid call works`, async () => {
  const { tools } = await h.client.listTools();
  const schemas: ToolSchema[] = tools
    .map((t) => ({ name: t.name, properties: (t.inputSchema.properties ?? {}) as Record<string, PropSchema>, required: (t.inputSchema.required ?? []) as string[] }))
    .filter((t) => Object.keys(t.properties).length > 0);
  expect(schemas.map((t) => t.name)).toEqual(expect.arrayContaining(['generate_image', 'cancel_job', 'upload_workflow', 'upload_image']));
  const bad = fc.constantFrom(...schemas).chain((tool) => mutations(tool).map((m) => ({ tool: tool.name, ...m })));

  await fc.assert(
    fc.asyncProperty(bad, async ({ tool, kind, field, args }) => {
      // JSON's own-property "__proto__", as a client would send it.
      const sent = JSON.parse(JSON.stringify(args)) as Record<string, unknown>;
      if (tool === 'generate_image' && kind !== 'wrong type') sent['wait'] = false;
      const result = await h.call(tool, sent);
      const text = textOf(result);
      expect(result.isError).toBe(true);
      expect(text).not.toMatch(/comfywire bug|Unexpected error|internal error|failed unexpectedly/i);
      expect(text.length).toBeLessThanOrEqual(2048);
      // Actionable: it says which field to fix.
      expect(text).toContain(field);
      const next = await h.call('get_queue');
      expect(next.isError).toBeFalsy();
    }),
    { numRuns: stressCount(1_000, 1_000), seed: 10 },
  );
}, 300_000);
