import { describe, expect, it } from '@jest/globals';
import { CATALOG_MAX_AGE_MS, HostCatalog } from '../../src/fleet/host-catalog.js';
import { mergeObjectInfo } from '../../src/fleet/merge-object-info.js';
import type { NodeInfo, ObjectInfo } from '../../src/comfy/types.js';

/** What a host can run, read and kept (ages on an injected clock), and object_info merged across hosts. */

function source(models: Record<string, string[]>, classes = ['KSampler']) {
  const calls = { objectInfo: 0, folders: [] as string[] };
  return {
    calls,
    objectInfo: async () => {
      calls.objectInfo++;
      return Object.fromEntries(classes.map((c) => [c, {} as NodeInfo])) as ObjectInfo;
    },
    listModelFolders: async () => [...Object.keys(models), 'custom_nodes', 'configs'],
    listModels: async (folder: string) => {
      calls.folders.push(folder);
      if (folder === 'broken') throw new Error('500');
      return models[folder] ?? ['should-not-be-read.py'];
    },
  };
}

describe('HostCatalog', () => {
  it('reads node classes and every model folder but custom_nodes and configs; one broken folder costs only that folder', async () => {
    const src = source({ checkpoints: ['sd15\\a.safetensors'], loras: ['l.safetensors'], broken: [] });
    const read = await new HostCatalog(src).get();
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect([...read.catalog.nodeClasses]).toEqual(['KSampler']);
    expect([...read.catalog.models].sort()).toEqual(['l.safetensors', 'sd15/a.safetensors']);
    expect(src.calls.folders.sort()).toEqual(['broken', 'checkpoints', 'loras']);
  });

  it('serves a read for max age, serves it stale while re-reading after, and reads again after invalidate()', async () => {
    let now = 1_000;
    const src = source({ checkpoints: ['a.safetensors'] });
    const catalog = new HostCatalog(src, () => now);
    const first = await catalog.get();
    now += CATALOG_MAX_AGE_MS;
    expect(await catalog.get()).toBe(first);
    expect(src.calls.objectInfo).toBe(1);
    now += 1;
    // Stale: answered at once with the old read, a new one started behind it.
    expect(await catalog.get()).toBe(first);
    expect(src.calls.objectInfo).toBe(2);
    await new Promise((r) => setImmediate(r));
    const second = catalog.peek();
    expect(second).not.toBe(first);
    catalog.invalidate();
    expect(catalog.peek()).toBeUndefined();
    await catalog.get();
    expect(src.calls.objectInfo).toBe(3);
  });

  it('keeps a failed read as the reason, and reads again on the next get', async () => {
    let fail = true;
    const catalog = new HostCatalog({
      objectInfo: async () => {
        if (fail) throw new Error('ComfyUI answered 500');
        return {};
      },
      listModelFolders: async () => [],
      listModels: async () => [],
    });
    expect(await catalog.get()).toEqual({ ok: false, error: 'ComfyUI answered 500' });
    fail = false;
    expect((await catalog.get()).ok).toBe(true);
  });
});

describe('mergeObjectInfo', () => {
  const node = (ckpts: unknown[], v3 = false): NodeInfo =>
    ({ input: { required: { ckpt_name: v3 ? ['COMBO', { options: ckpts }] : [ckpts, { tooltip: 't' }], seed: ['INT', {}] } }, output: [], output_name: [], name: 'L', output_node: false }) as NodeInfo;

  it('keeps every class of every host and unions choice lists (legacy and COMBO), leaving the inputs untouched', () => {
    const a: ObjectInfo = { L: node(['a.safetensors']), OnlyA: node([]) };
    const b: ObjectInfo = { L: node(['a.safetensors', 'b.safetensors']), OnlyB: node([]) };
    const c: ObjectInfo = { L: node(['c.safetensors'], true) };
    const m = mergeObjectInfo([a, b, c]);
    expect(Object.keys(m).sort()).toEqual(['L', 'OnlyA', 'OnlyB']);
    expect(m['L']!.input.required!['ckpt_name']).toEqual([['a.safetensors', 'b.safetensors', 'c.safetensors'], { tooltip: 't' }]);
    expect(m['L']!.input.required!['seed']).toEqual(['INT', {}]);
    expect(a['L']!.input.required!['ckpt_name']).toEqual([['a.safetensors'], { tooltip: 't' }]);
    const v3 = mergeObjectInfo([{ L: node(['x'], true) }, { L: node(['y'], true) }]);
    expect(v3['L']!.input.required!['ckpt_name']).toEqual(['COMBO', { options: ['x', 'y'] }]);
    expect(mergeObjectInfo([a])).toBe(a);
  });
});

it('a read in flight when the host reconnects (invalidate) does not become the catalog', async () => {
  let release!: () => void;
  let calls = 0;
  const catalog = new HostCatalog({
    objectInfo: async () => {
      calls++;
      if (calls === 1) await new Promise<void>((r) => (release = r));
      return { [`Class${calls}`]: {} as NodeInfo } as ObjectInfo;
    },
    listModelFolders: async () => [],
    listModels: async () => [],
  });
  const before = catalog.get();
  await new Promise((r) => setImmediate(r));
  catalog.invalidate();
  const after = await catalog.get();
  release();
  await before;
  expect(after.ok && [...after.catalog.nodeClasses]).toEqual(['Class2']);
  const kept = catalog.peek();
  expect(kept?.ok && [...kept.catalog.nodeClasses]).toEqual(['Class2']);
});
