import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { instanceOptions } from '../../src/cli/commands/simulate-instances.js';
import { parseApi, parseCheckpointSets, parseCustomNodes, parseInstances, parseMsList, perInstance } from '../../src/cli/commands/simulate-lists.js';
import { ParameterInvalidError } from '../../src/errors.js';

/** `comfywire simulate --instances N`: per-instance flag lists -> one option set per instance. */

it('reads millisecond lists and checkpoint sets; refuses what is not one', () => {
  expect(parseMsList('150')).toEqual([150]);
  expect(parseMsList('50, 150,0')).toEqual([50, 150, 0]);
  for (const bad of ['', '-5', '5,', 'fast', '0x10', '1e3']) expect(() => parseMsList(bad)).toThrow(InvalidArgumentError);
  expect(parseCheckpointSets('a.safetensors, b.safetensors;b.safetensors')).toEqual([['a.safetensors', 'b.safetensors'], ['b.safetensors']]);
  expect(parseCheckpointSets('sdxl/base.safetensors')).toEqual([['sdxl/base.safetensors']]);
  for (const bad of ['a;', ';a', 'a,,b', 'a\u0007', 'x'.repeat(256)]) expect(() => parseCheckpointSets(bad)).toThrow(InvalidArgumentError);
  // Never echoes unbounded input: a 10,000-character name comes back as a short excerpt.
  const long = (() => { try { parseCheckpointSets('x'.repeat(10_000)); } catch (e) { return (e as Error).message; } return ''; })();
  expect(long).toMatch(/is not a file name/);
  expect(long.length).toBeLessThan(400);
  expect(parseInstances('4')).toBe(4);
  for (const bad of ['0', '257', '1.5', 'two', '']) expect(() => parseInstances(bad)).toThrow(InvalidArgumentError);
});

it('a single value serves every instance, N values one each, any other count is a usage error naming the flag', () => {
  expect(perInstance('--step-delay', [50], 3)).toEqual([50, 50, 50]);
  expect(perInstance('--step-delay', [50, 150], 2)).toEqual([50, 150]);
  expect(() => perInstance('--step-delay', [50, 150], 3)).toThrow(ParameterInvalidError);
  expect(() => perInstance('--step-delay', [50, 150], 3)).toThrow('--step-delay: 2 values for 3 instances.');
});

it('builds one option set per instance; several instances get their own data folder', () => {
  const flags = { host: '127.0.0.1', instances: 2, stepDelay: [50, 150], modelLoad: [300], checkpoints: [['a'], ['b', 'c']], dataDir: '/srv/sim' };
  expect(instanceOptions(flags)).toEqual([
    { host: '127.0.0.1', stepDelayMs: 50, modelLoadMs: 300, checkpoints: ['a'], previewMethod: 'none', dataDir: path.join('/srv/sim', 'host-1') },
    { host: '127.0.0.1', stepDelayMs: 150, modelLoadMs: 300, checkpoints: ['b', 'c'], previewMethod: 'none', dataDir: path.join('/srv/sim', 'host-2') },
  ]);
  expect(instanceOptions({ ...flags, instances: 1, stepDelay: [5], checkpoints: undefined })).toEqual([
    { host: '127.0.0.1', stepDelayMs: 5, modelLoadMs: 300, previewMethod: 'none', dataDir: '/srv/sim' },
  ]);
  expect(instanceOptions({ ...flags, instances: 1, stepDelay: [5], checkpoints: undefined, api: 'latest' })[0]).toMatchObject({ api: 'latest' });
});

it('--api takes 0.3.64 or latest; anything else is a usage error that says which', () => {
  expect(parseApi('0.3.64')).toBe('0.3.64');
  expect(parseApi('latest')).toBe('latest');
  for (const bad of ['0.3.65', 'LATEST', '', 'newest']) expect(() => parseApi(bad)).toThrow(/takes 0\.3\.64 or latest/);
});

it('--custom-nodes: packs the simulator has, by ","; each instance gets them, and COMFYWIRE_FFMPEG as the video nodes\' ffmpeg', () => {
  expect(parseCustomNodes('VideoHelperSuite')).toEqual(['VideoHelperSuite']);
  expect(parseCustomNodes(' VideoHelperSuite,VideoHelperSuite ')).toEqual(['VideoHelperSuite']);
  for (const bad of ['', ',', 'AnimateDiff', 'VideoHelperSuite,x']) expect(() => parseCustomNodes(bad)).toThrow(InvalidArgumentError);
  expect(() => parseCustomNodes('nope')).toThrow(/from: VideoHelperSuite; got "nope"/);
  const long = (() => { try { parseCustomNodes('x'.repeat(10_000)); } catch (e) { return (e as Error).message; } return ''; })();
  expect(long.length).toBeLessThan(400);
  const flags = { host: '127.0.0.1', instances: 2, stepDelay: [5], modelLoad: [0], customNodes: ['VideoHelperSuite'], ffmpeg: 'off' };
  for (const o of instanceOptions(flags)) expect(o).toMatchObject({ customNodes: ['VideoHelperSuite'], ffmpeg: 'off' });
  expect(instanceOptions({ ...flags, customNodes: undefined, ffmpeg: undefined })[0]).not.toHaveProperty('customNodes');
});
