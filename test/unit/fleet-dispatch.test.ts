import { describe, expect, it } from '@jest/globals';
import { decide, type DispatchRequest, type HostView } from '../../src/fleet/dispatch.js';
import { HostLoad } from '../../src/fleet/host-load.js';
import { promptNeeds } from '../../src/fleet/prompt-needs.js';

/** The decision alone, over hand-made hosts: eligibility, stickiness against waiting, weights, the words. */

function host(name: string, o: { drain?: boolean; up?: boolean; classes?: string[]; models?: string[]; tags?: string[]; weight?: number; queue?: number; spj?: number; ckpt?: string; switchS?: number } = {}): HostView {
  const load = new HostLoad();
  load.statusQueue = o.queue ?? 0;
  if (o.spj !== undefined) load.recordRun('w', o.spj, false);
  if (o.ckpt !== undefined) load.queuedCheckpoint = o.ckpt;
  if (o.switchS !== undefined) {
    load.recordRun('w', (o.spj ?? 1) + o.switchS, true);
  }
  return {
    name,
    up: o.up ?? true,
    state: o.up === false ? 'reconnecting' : 'open',
    weight: o.weight ?? 1,
    tags: o.tags ?? [],
    draining: o.drain ?? false,
    catalog: { ok: true, catalog: { nodeClasses: new Set(o.classes ?? ['CheckpointLoaderSimple', 'KSampler']), models: new Set(o.models ?? ['a.safetensors', 'b.safetensors']), readAt: 0 } },
    load,
  };
}

const needs = (ckpt = 'a.safetensors', classes = ['CheckpointLoaderSimple', 'KSampler']) => ({ nodeClasses: classes, models: [ckpt], checkpoint: ckpt });
const req = (o: Partial<DispatchRequest> = {}): DispatchRequest => ({ needs: needs(), workflow: 'w', ...o });

describe('eligibility', () => {
  it('never picks a host that is down, lacks a node class or a model, or misses a tag, and says which and why', () => {
    const hosts = [
      host('down', { up: false }),
      host('no-node', { classes: ['CheckpointLoaderSimple'] }),
      host('no-model', { models: ['b.safetensors'] }),
      host('untagged'),
      host('ok', { tags: ['sdxl'], queue: 50 }),
    ];
    expect(decide(hosts, req({ tags: ['sdxl'] }))).toMatchObject({ ok: true, host: 'ok' });
    const none = decide(hosts.slice(0, 4), req({ tags: ['sdxl'] }));
    expect(none).toEqual({
      ok: false,
      rejected: [
        { host: 'down', why: 'not tagged sdxl' },
        { host: 'no-node', why: 'not tagged sdxl' },
        { host: 'no-model', why: 'not tagged sdxl' },
        { host: 'untagged', why: 'not tagged sdxl' },
      ],
      reason: 'No ComfyUI host can run this prompt: down not tagged sdxl; no-node not tagged sdxl; no-model not tagged sdxl; untagged not tagged sdxl.',
    });
    const untagged = decide(hosts.slice(0, 3), req());
    expect(untagged).toEqual({
      ok: false,
      rejected: [
        { host: 'down', why: 'down (reconnecting)' },
        { host: 'no-node', why: 'lacks node class KSampler' },
        { host: 'no-model', why: 'lacks model a.safetensors' },
      ],
      reason: 'No ComfyUI host can run this prompt: down down (reconnecting); no-node lacks node class KSampler; no-model lacks model a.safetensors.',
    });
  });

  it('a draining host takes no new job unless pinned to it', () => {
    const hosts = [host('drained', { drain: true }), host('busy', { queue: 30 })];
    expect(decide(hosts, req())).toMatchObject({ ok: true, host: 'busy' });
    expect(decide(hosts.slice(0, 1), req())).toMatchObject({ ok: false, rejected: [{ host: 'drained', why: 'draining (out of rotation: pin it to use it)' }] });
    expect(decide(hosts, req({ host: 'drained' }))).toEqual({ ok: true, host: 'drained', reason: 'pinned to drained by the caller' });
  });

  it('matches model names whatever path separator the prompt uses', () => {
    const d = decide([host('win', { models: ['sd15/a.safetensors'] })], req({ needs: needs('sd15\\a.safetensors') }));
    expect(d).toMatchObject({ ok: true, host: 'win' });
  });

  it('an unread or unreadable catalog makes a host ineligible, with the read error', () => {
    const unread = { ...host('x'), catalog: undefined };
    const failed = { ...host('y'), catalog: { ok: false as const, error: 'ComfyUI is not reachable' } };
    const d = decide([unread, failed], req());
    expect(d).toMatchObject({
      ok: false,
      rejected: [
        { host: 'x', why: 'its node classes and models are not known yet' },
        { host: 'y', why: 'its /object_info or /models could not be read (ComfyUI is not reachable)' },
      ],
    });
  });
});

describe('choice', () => {
  it('prefers the host with the checkpoint loaded while its queue costs less than a switch, then the shortest wait', () => {
    // Both measured at 10 s per job; a switch costs one job's time until measured.
    const sticky = (queue: number) => host('sticky', { spj: 10, ckpt: 'a.safetensors', queue });
    const other = host('other', { spj: 10, ckpt: 'b.safetensors', queue: 0 });
    expect(decide([other, sticky(0)], req())).toMatchObject({ ok: true, host: 'sticky', reason: expect.stringMatching(/^sent to sticky: it has a.safetensors loaded and an empty queue \(other an empty queue, model switch\)$/) });
    // 1 queued × 10 s = 10 s = the switch: a tie, which the loaded model wins.
    expect(decide([other, sticky(1)], req())).toMatchObject({ host: 'sticky' });
    // 2 queued = 20 s > 0 s + 10 s switch: the other host.
    expect(decide([other, sticky(2)], req())).toMatchObject({
      host: 'other',
      reason: 'sent to other: the shortest expected wait, an empty queue (sticky 2 jobs queued × 10 s ≈ 20 s)',
    });
  });

  it('prices a switch at what the host measured it to cost', () => {
    const cheapSwitch = host('cheap', { spj: 10, ckpt: 'b.safetensors', switchS: 1 });
    const sticky = host('sticky', { spj: 10, ckpt: 'a.safetensors', queue: 1 });
    // sticky waits 10 s; cheap switches for 1 s.
    expect(decide([sticky, cheapSwitch], req())).toMatchObject({ host: 'cheap' });
  });

  it('divides the wait by the weight, and uses the median measured speed for a host not yet measured', () => {
    const heavy = host('heavy', { spj: 10, queue: 3, weight: 4 }); // 7.5 s
    const light = host('light', { spj: 10, queue: 1 }); // 10 s
    const fresh = host('fresh', { queue: 1 }); // unmeasured: median 10 s → 10 s
    const r = req({ needs: { nodeClasses: ['KSampler'], models: [], checkpoint: undefined } });
    expect(decide([light, fresh, heavy], r)).toMatchObject({ host: 'heavy', reason: expect.stringContaining('3 jobs queued × 10 s ÷ weight 4 ≈ 7.5 s') });
  });

  it('breaks ties toward a host with no model to evict, then the one sent fewer jobs, then configuration order', () => {
    const r = req({ needs: needs('b.safetensors') });
    const loaded = host('loaded', { ckpt: 'a.safetensors' });
    const empty1 = host('empty1');
    const empty2 = host('empty2');
    expect(decide([loaded, empty1, empty2], r)).toMatchObject({ host: 'empty1' });
    empty1.load.dispatched = 3;
    expect(decide([loaded, empty1, empty2], r)).toMatchObject({ host: 'empty2' });
  });

  it('a pinned host is used even when busier, or down; an ineligible pinned host or an unknown name is refused', () => {
    const hosts = [host('a'), host('b', { queue: 9 }), host('c', { up: false }), host('d', { models: [] })];
    expect(decide(hosts, req({ host: 'b' }))).toEqual({ ok: true, host: 'b', reason: 'pinned to b by the caller' });
    expect(decide(hosts, req({ host: 'c' }))).toEqual({ ok: true, host: 'c', reason: 'pinned to c by the caller (it is reconnecting)' });
    expect(decide(hosts, req({ host: 'd' }))).toMatchObject({ ok: false, reason: 'The pinned host d cannot run this prompt: it lacks model a.safetensors.' });
    expect(decide(hosts, req({ host: 'zz' }))).toMatchObject({ ok: false, reason: 'There is no ComfyUI host named "zz"; the hosts are a, b, c, d.' });
  });

  it('leaves out excluded hosts (the one that lost the job)', () => {
    expect(decide([host('a'), host('b', { queue: 5 })], req({ exclude: new Set(['a']) }))).toMatchObject({ host: 'b' });
    expect(decide([host('a')], req({ exclude: new Set(['a']) }))).toMatchObject({ ok: false, rejected: [{ host: 'a', why: 'it lost this job' }] });
  });
});

describe('promptNeeds', () => {
  it('reads node classes, model files by extension, and the first checkpoint by node id', () => {
    const n = promptNeeds({
      '10': { class_type: 'LoraLoader', inputs: { lora_name: 'style.safetensors', model: ['4', 0] } },
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15\\x.ckpt' } },
      '5': { class_type: 'CLIPTextEncode', inputs: { text: 'not a model.safetensors ok', clip: ['4', 1] } },
      '6': { class_type: 'UNETLoader', inputs: { unet_name: 'flux.gguf' } },
    });
    expect([...n.nodeClasses].sort()).toEqual(['CLIPTextEncode', 'CheckpointLoaderSimple', 'LoraLoader', 'UNETLoader']);
    expect([...n.models].sort()).toEqual(['flux.gguf', 'sd15\\x.ckpt', 'style.safetensors'].sort());
    expect(n.checkpoint).toBe('sd15\\x.ckpt');
    expect(promptNeeds({ '1': { class_type: 'SaveImage', inputs: {} } }).checkpoint).toBeUndefined();
  });
});

describe('HostLoad', () => {
  it('measures a switch against runs without one; a first run that loaded its model does not set the baseline for good', () => {
    const load = new HostLoad();
    expect(load.started('a')).toBe(true);
    load.recordRun('w', 10.5, true); // first load: 10 s of load + 0.5 s of work
    expect(load.secondsPerJob('w')).toBe(10.5);
    expect(load.started('a')).toBe(false);
    load.recordRun('w', 0.5, false);
    expect(load.secondsPerJob('w')).toBe(0.5);
    expect(load.started('b')).toBe(true);
    load.recordRun('w', 8.5, true);
    expect(load.modelSwitchSeconds()).toBe(8);
    expect(load.secondsPerJob('w')).toBe(0.5);
    expect(load.secondsPerJob('other')).toBe(0.5);
    load.statusQueue = 2;
    load.ours = 5;
    expect(load.queueLength()).toBe(5);
  });
});
