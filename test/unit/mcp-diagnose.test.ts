import type { JobError } from '../../streams/job-state.js';
import { diagnoseJobError, diagnoseRejection, trimTraceback } from '../../src/mcp/diagnose.js';
import type { NodeInputProblem } from '../../src/errors.js';

const baseError: JobError = {
  nodeId: '4',
  classType: 'CheckpointLoaderSimple',
  title: 'Load Checkpoint',
  exceptionType: 'FileNotFoundError',
  exceptionMessage: "[Errno 2] No such file or directory: 'models/checkpoints/v1-5-prunded.safetensors'",
  traceback: ['Traceback (most recent call last):\n', ...Array.from({ length: 30 }, (_, i) => `  File "x.py", line ${i}\n`)],
  inputs: { ckpt_name: ['v1-5-prunded.safetensors'] },
  executed: [],
};

const models: Record<string, string[]> = {
  checkpoints: ['sd15-random.safetensors', 'v1-5-pruned-emaonly.safetensors', 'v1-5-pruned.safetensors'],
};
const deps = {
  listModels: async (folder: string) => {
    const list = models[folder];
    if (!list) throw new Error('no such folder');
    return list;
  },
  objectInfo: async () => ({}) as never,
};

describe('diagnoseJobError', () => {
  it('names the nearest model files for a model that does not exist', async () => {
    const d = await diagnoseJobError(baseError, deps);
    expect(d.summary).toContain('node 4 (CheckpointLoaderSimple, "Load Checkpoint")');
    expect(d.summary).toContain('FileNotFoundError');
    const hint = d.hints.join('\n');
    expect(hint).toContain('"v1-5-prunded.safetensors"');
    expect(hint).toContain('"v1-5-pruned.safetensors"');
    expect(hint).toContain('list_models folder="checkpoints"');
    expect(d.traceback.length).toBeLessThanOrEqual(12);
    expect(d.traceback.at(-1)).toContain('line 29');
  });

  it('suggests a smaller size or batch on out of memory', async () => {
    const d = await diagnoseJobError(
      {
        ...baseError,
        nodeId: '3',
        classType: 'KSampler',
        title: undefined as never,
        exceptionType: 'torch.OutOfMemoryError',
        exceptionMessage: 'Allocation on device 0 would exceed allowed memory. (out of memory)',
        inputs: { width: [2048], height: [2048], batch_size: [8] },
      },
      deps,
    );
    expect(d.hints[0]).toMatch(/ran out of memory \(this run asked for 2048×2048, batch 8\)/);
    expect(d.hints[0]).toMatch(/smaller width\/height/);
    expect(d.hints[0]).toMatch(/batch_size 1/);
  });

  it('says which custom node pack a missing class comes from', async () => {
    const d = await diagnoseJobError(
      { ...baseError, classType: 'IPAdapterAdvanced', exceptionType: 'KeyError', exceptionMessage: "'IPAdapterAdvanced'", inputs: {} },
      deps,
    );
    expect(d.hints.join('\n')).toMatch(/"IPAdapterAdvanced" is not installed.*ComfyUI_IPAdapter_plus/);
  });

  it('falls back to a generic, actionable hint', async () => {
    const d = await diagnoseJobError({ ...baseError, exceptionType: 'RuntimeError', exceptionMessage: 'boom', inputs: { x: [1] } }, deps);
    expect(d.hints).toEqual([expect.stringMatching(/Check the inputs of node 4/)]);
  });

  it('still answers when ComfyUI cannot list models', async () => {
    const d = await diagnoseJobError(baseError, { listModels: async () => Promise.reject(new Error('down')) });
    expect(d.hints.length).toBeGreaterThan(0);
  });

  it('trims long traceback lines', () => {
    expect(trimTraceback(['x'.repeat(1000)])[0]!.length).toBeLessThan(400);
  });
});

describe('diagnoseRejection', () => {
  it('adds the closest checkpoint names to a value_not_in_list on ckpt_name', async () => {
    const problems: NodeInputProblem[] = [
      { nodeId: '4', classType: 'CheckpointLoaderSimple', inputName: 'ckpt_name', type: 'value_not_in_list', message: 'Value not in list', details: '', receivedValue: 'sd15-randm.safetensors' },
    ];
    const hints = await diagnoseRejection(problems, deps);
    expect(hints[0]).toContain('"sd15-random.safetensors"');
  });
});
