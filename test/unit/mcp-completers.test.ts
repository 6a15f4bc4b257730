/** The completers on their own: prefix matching and where checkpoint names come from. */
import type { McpDeps } from '../../src/mcp/deps.js';
import { byPrefix, checkpointNames } from '../../src/mcp/completions.js';

test('byPrefix: case and path separators do not matter; order kept; each value once', () => {
  const models = ['SD15\\fox.safetensors', 'sd15/cat.safetensors', 'sdxl/base.safetensors', 'sd15/cat.safetensors'];
  expect(byPrefix(models, 'sd15/')).toEqual(['SD15\\fox.safetensors', 'sd15/cat.safetensors']);
  expect(byPrefix(models, 'SD15\\C')).toEqual(['sd15/cat.safetensors']);
  expect(byPrefix(models, undefined)).toEqual(['SD15\\fox.safetensors', 'sd15/cat.safetensors', 'sdxl/base.safetensors']);
  expect(byPrefix(models, 'flux')).toEqual([]);
});

function depsWith(objectInfo: () => Promise<unknown>, listModels: (folder: string) => Promise<string[]>): McpDeps {
  return { engine: { objectInfo, comfy: { listModels } } } as unknown as McpDeps;
}

test('checkpoints: the loader\'s choices from /object_info; /models/checkpoints when no loader is there; nothing when both fail', async () => {
  const fromInfo = checkpointNames(
    depsWith(
      async () => ({ CheckpointLoaderSimple: { input: { required: { ckpt_name: [['a.safetensors', 'b.ckpt']] } } } }),
      async () => ['not-used.safetensors'],
    ),
  );
  expect(await fromInfo('', undefined)).toEqual(['a.safetensors', 'b.ckpt']);

  const asked: string[] = [];
  const fromModels = checkpointNames(depsWith(async () => ({}), async (folder) => (asked.push(folder), ['c.safetensors'])));
  expect(await fromModels('C', undefined)).toEqual(['c.safetensors']);
  expect(asked).toEqual(['checkpoints']);

  const down = checkpointNames(depsWith(async () => Promise.reject(new Error('ECONNREFUSED')), async () => Promise.reject(new Error('ECONNREFUSED'))));
  expect(await down('', undefined)).toEqual([]);
});
