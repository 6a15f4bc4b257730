import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Engine } from '../../src/engine.js';
import { prepareGeneration } from '../../src/generation/prepare.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { REPO, startHarness, textOf, type Harness } from './mcp-harness.js';

/**
 * Bad inputs and failures: each one is an isError result whose text says what to do, and the
 * server answers the next call as if nothing happened.
 */

let h: Harness;
let workflows: string;

/** A template that passes local checks but that ComfyUI rejects (a KSampler without its inputs). */
async function prepare(engine: Engine, request: GenerateRequest) {
  if (request.workflow === 'rejected-by-comfyui') {
    return {
      templateName: 'rejected-by-comfyui',
      prompt: {
        '1': { class_type: 'EmptyImage', inputs: { width: 0, height: 16, batch_size: 1, color: 0 } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
      },
      values: {},
      notes: [],
    };
  }
  return prepareGeneration(engine, request);
}

beforeAll(async () => {
  workflows = mkdtempSync(path.join(tmpdir(), 'comfywire-mcp-workflows-'));
  for (const f of ['sd15-txt2img.json', 'sd15-txt2img.meta.json']) copyFileSync(path.join(REPO, 'workflows', f), path.join(workflows, f));
  writeFileSync(path.join(workflows, 'broken.json'), '{\n  "3": {\n    "class_type": "KSampler",\n  },\n}\n');
  h = await startHarness({ env: { COMFYWIRE_WORKFLOWS_DIR: workflows }, deps: { prepare } });
});
afterAll(async () => {
  await h.close();
  rmSync(workflows, { recursive: true, force: true });
});

afterEach(async () => {
  h.sim.faults.clearNodeFaults();
  // The server keeps serving after every failure.
  const q = await h.call('get_queue');
  expect(q.isError).toBeFalsy();
});

async function expectError(args: Record<string, unknown>, ...patterns: RegExp[]): Promise<string> {
  const r = await h.call('generate_image', args);
  expect(r.isError).toBe(true);
  const text = textOf(r);
  for (const p of patterns) expect(text).toMatch(p);
  return text;
}

test('unknown workflow: lists the available ones', async () => {
  await expectError({ workflow: 'sd15-txt2im', prompt: 'x' }, /No workflow template named "sd15-txt2im"/, /sd15-txt2img/);
});

test('unknown parameter: names the valid ones', async () => {
  await expectError({ prompt: 'x', params: { stepz: 3 } }, /stepz/, /steps/);
});

test('out-of-range value: says the range', async () => {
  await expectError({ prompt: 'x', steps: 500 }, /steps must be between 1 and 150/);
});

test('oversize prompt: says the configured limit and what to do', async () => {
  const limit = h.config.limits.promptChars;
  await expectError({ prompt: 'x'.repeat(limit + 1) }, new RegExp(`${limit + 1} characters; the limit is ${limit}\\.`), /Shorten it/);
});

test('input_image outside the allowed folders: names the allowed folders', async () => {
  await expectError({ prompt: 'x', input_image: '/etc/hostname' }, /outside the folders comfywire may read/, /Allowed folders:/);
});

test('malformed template JSON: the file and the place; list_workflows reports it without failing', async () => {
  await expectError({ workflow: 'broken', prompt: 'x' }, /broken/);
  const list = await h.call('list_workflows');
  expect(list.isError).toBeFalsy();
  const s = list.structuredContent as { problems: Array<{ name: string }>; workflows: Array<{ name: string }> };
  expect(s.problems.map((p) => p.name)).toEqual(['broken']);
  expect(s.workflows.map((w) => w.name)).toContain('sd15-txt2img');
  expect(textOf(list)).toMatch(/Problem with .*broken\.json/);
});

test('ComfyUI rejecting the prompt: every node and input explained', async () => {
  await expectError({ workflow: 'rejected-by-comfyui' }, /ComfyUI rejected the prompt/, /Node 1 \(EmptyImage\)/, /input "width"/, /at least 1/);
});

test('a node failing at run time: node, exception and hints; get_workflow_status explains it too', async () => {
  h.sim.faults.failNode({ classType: 'KSampler' }, 'mat1 and mat2 shapes cannot be multiplied (77x2048 and 768x320)');
  const text = await expectError({ prompt: 'x', steps: 2, width: 128, height: 128 }, /failed/, /node 3/, /KSampler/, /RuntimeError/, /same base model/);
  const id = /Job (\S+) failed/.exec(text)![1]!;
  const status = await h.call('get_workflow_status', { prompt_id: id });
  const job = (status.structuredContent as { job: { status: string; error: { node_id: string; hints: string[]; traceback: string[] } } }).job;
  expect(job.status).toBe('error');
  expect(job.error.node_id).toBe('3');
  expect(job.error.hints.join(' ')).toMatch(/same base model/);
});

test('out of memory: suggests a smaller size or batch', async () => {
  h.sim.faults.failWithOutOfMemory({ classType: 'KSampler' });
  await expectError({ prompt: 'x', steps: 2, width: 1024, height: 1024, batch_size: 4 }, /out of memory/i, /smaller width\/height/, /batch_size 1/);
});

test('a prompt submitted elsewhere: status read from ComfyUI history', async () => {
  const prompt = {
    '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 0 } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'elsewhere' } },
  };
  const { promptId } = await h.engine.client.submitPrompt(prompt, { promptId: 'submitted-elsewhere' });
  const job = await (async () => {
    for (let i = 0; i < 200; i++) {
      const r = await h.call('get_workflow_status', { prompt_id: promptId, download: false });
      const j = (r.structuredContent as { job: { status: string; ours: boolean; missing_files: Array<{ url?: string }> } }).job;
      if (j.status === 'success') return j;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error('never finished');
  })();
  expect(job.ours).toBe(false);
  expect(job.missing_files[0]!.url).toMatch(/\/view\?filename=elsewhere/);
  // By default its outputs are fetched into the output folder like those of our own jobs.
  const fetched = (await h.call('get_workflow_status', { prompt_id: promptId })).structuredContent as { job: { files: Array<{ path: string }> } };
  expect(fetched.job.files.map((f) => f.path)).toEqual([expect.stringContaining(`${h.outputDir}/${promptId}/elsewhere_`)]);
});

describe('ComfyUI down', () => {
  let down: Harness;
  beforeAll(async () => {
    down = await startHarness({ comfyDown: true });
  });
  afterAll(async () => down.close());

  test('tools answer with the unreachable hint, and list_workflows still lists the folder', async () => {
    for (const [tool, args] of [['generate_image', { prompt: 'x' }], ['list_models', {}], ['get_queue', {}]] as const) {
      const r = await down.call(tool, args);
      expect([tool, r.isError]).toEqual([tool, true]);
      expect(textOf(r)).toMatch(/ComfyUI is not reachable at http:\/\/127\.0\.0\.1:9[\s\S]*COMFYUI_URL/);
    }
    const list = await down.call('list_workflows');
    expect(list.isError).toBeFalsy();
    expect(list.structuredContent).toMatchObject({ comfyui_reachable: false });
    expect(textOf(list)).toMatch(/Note: ComfyUI is not reachable/);
  });
});
