import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  ensurePeer, npmReason, peerFolder, PEER_INSTALL_TIMEOUT_MS, PEER_VERSION, type InstallProcess, type PeerInstall,
} from '../../bench/compare-peer.js';
import { realPause, untilReal, useFakeClock, useRealClock } from '../helpers/fake-clock.js';

/**
 * The peer of the start-up comparison is installed into a cache folder keyed by version, reused
 * when complete, and any failure (npm exits non-zero, cannot start, or hangs past the timeout) is
 * a skip with a note that says why, leaving no half-installed folder behind.
 */

/** A fake npm: `close` / `error` are emitted by the test; it records its arguments and kills. */
class FakeNpm extends EventEmitter implements InstallProcess {
  readonly stderr = new PassThrough();
  readonly kills: Array<NodeJS.Signals | undefined> = [];
  constructor(readonly args: string[]) {
    super();
  }
  kill(signal?: NodeJS.Signals): boolean {
    this.kills.push(signal);
    return true;
  }
  /** Writes what npm would: node_modules/comfyui-mcp with its package.json and bin file. */
  installInto(prefix: string, version = PEER_VERSION): void {
    writePackage(prefix, version);
  }
}

function writePackage(prefix: string, version = PEER_VERSION): void {
  const dir = join(prefix, 'node_modules', 'comfyui-mcp');
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'comfyui-mcp', version, bin: { 'comfyui-mcp': 'dist/index.js' } }));
  writeFileSync(join(dir, 'dist', 'index.js'), '#!/usr/bin/env node\n');
}

let root: string;
let started: FakeNpm[];
const runNpm = (args: string[]): FakeNpm => {
  const npm = new FakeNpm(args);
  started.push(npm);
  return npm;
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'comfywire-peer-cache-'));
  started = [];
});
afterEach(() => {
  useRealClock();
  rmSync(root, { recursive: true, force: true });
});

function watch(p: Promise<PeerInstall>) {
  const s: { result?: PeerInstall } = {};
  void p.then((r) => (s.result = r));
  return s;
}

test('a complete install in the cache is used as it is: npm is not run', async () => {
  writePackage(peerFolder(root));
  const r = await ensurePeer({ cacheRoot: root, runNpm });
  expect(r).toEqual({ ok: true, cached: true, entry: join(peerFolder(root), 'node_modules', 'comfyui-mcp', 'dist', 'index.js') });
  expect(started).toHaveLength(0);
  expect(peerFolder(root)).toBe(join(root, `comfyui-mcp@${PEER_VERSION}`));
});

test('no install yet (or another version): npm installs the pinned version beside it, then it is moved into place', async () => {
  writePackage(peerFolder(root), '0.52.100'); // a stale cache is not taken for this version
  const p = watch(ensurePeer({ cacheRoot: root, runNpm }));
  await untilReal(() => started.length === 1);
  const npm = started[0]!;
  const prefix = npm.args[2]!;
  expect(npm.args).toEqual(['install', '--prefix', prefix, `comfyui-mcp@${PEER_VERSION}`, '--no-audit', '--no-fund', '--loglevel=error']);
  expect(prefix).not.toBe(peerFolder(root)); // a side folder: an interrupted install is never the cache
  npm.installInto(prefix);
  npm.emit('close', 0, null);
  await untilReal(() => p.result !== undefined);
  expect(p.result).toEqual({ ok: true, cached: false, entry: join(peerFolder(root), 'node_modules', 'comfyui-mcp', 'dist', 'index.js') });
  expect(existsSync(prefix)).toBe(false);
  // The next run finds it.
  expect(await ensurePeer({ cacheRoot: root, runNpm })).toMatchObject({ ok: true, cached: true });
  expect(started).toHaveLength(1);
});

test('npm fails (registry unreachable): a skip whose note has npm\'s code and reason, and no folder is left', async () => {
  const p = watch(ensurePeer({ cacheRoot: root, runNpm }));
  await untilReal(() => started.length === 1);
  const npm = started[0]!;
  npm.stderr.write('npm error code ECONNREFUSED\nnpm error syscall connect\nnpm error errno ECONNREFUSED\n');
  npm.stderr.write('npm error FetchError: request to http://127.0.0.1:9/comfyui-mcp failed, reason: connect ECONNREFUSED 127.0.0.1:9\n');
  npm.stderr.write('npm error     at ClientRequest.<anonymous> (/usr/lib/node_modules/npm/x.js:130:14)\n');
  npm.stderr.write("npm error If you are behind a proxy, please make sure that the 'proxy' config is set properly.\n");
  npm.stderr.write('npm error A complete log of this run can be found in: /root/.npm/_logs/x.log\n');
  await realPause(10);
  npm.emit('close', 1, null);
  await untilReal(() => p.result !== undefined);
  expect(p.result).toEqual({
    ok: false,
    note: `comfyui-mcp@${PEER_VERSION} not installed (npm install exited with 1: ECONNREFUSED: FetchError: request to http://127.0.0.1:9/comfyui-mcp failed, reason: connect ECONNREFUSED 127.0.0.1:9); its figures are skipped`,
  });
  expect(readdirSync(root)).toEqual([]);
});

test('npm cannot be started: a skip that says so', async () => {
  const p = watch(ensurePeer({ cacheRoot: root, runNpm }));
  await untilReal(() => started.length === 1);
  started[0]!.emit('error', Object.assign(new Error('spawn npm ENOENT'), { code: 'ENOENT' }));
  await untilReal(() => p.result !== undefined);
  expect(p.result).toEqual({ ok: false, note: `comfyui-mcp@${PEER_VERSION} not installed (npm could not be started: spawn npm ENOENT); its figures are skipped` });
  expect(readdirSync(root)).toEqual([]);
});

test(`npm that hangs is killed at the timeout (${PEER_INSTALL_TIMEOUT_MS / 1000} s), not 1 ms before`, async () => {
  useFakeClock();
  const p = watch(ensurePeer({ cacheRoot: root, runNpm }));
  await untilReal(() => started.length === 1);
  const npm = started[0]!;
  await jest.advanceTimersByTimeAsync(PEER_INSTALL_TIMEOUT_MS - 1);
  await realPause(10);
  expect(p.result).toBeUndefined();
  expect(npm.kills).toEqual([]);
  await jest.advanceTimersByTimeAsync(1);
  await untilReal(() => p.result !== undefined);
  expect(npm.kills).toEqual(['SIGKILL']);
  expect(p.result).toEqual({
    ok: false,
    note: `comfyui-mcp@${PEER_VERSION} not installed (npm install did not finish within 180 s: is the registry reachable?); its figures are skipped`,
  });
  // The killed npm's own close afterwards changes nothing.
  npm.emit('close', null, 'SIGKILL');
  await realPause(10);
  expect(p.result).toMatchObject({ ok: false });
  expect(readdirSync(root)).toEqual([]);
});

test('npm\'s reason is one bounded line', () => {
  expect(npmReason('npm error code ETARGET\nnpm error notarget No matching version found for comfyui-mcp@9.9.9.\n')).toBe(
    'ETARGET: notarget No matching version found for comfyui-mcp@9.9.9.',
  );
  expect(npmReason('')).toBe('');
  const long = npmReason(`npm error ${'x'.repeat(5000)}`);
  expect(long).toHaveLength(201);
  expect(long.endsWith('…')).toBe(true);
});
