import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runCli } from '../helpers/cli.js';
import { startStdioServer } from '../helpers/mcp-stdio.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { eventually } from '../helpers/wait.js';

/**
 * The built CLI with two ComfyUI hosts (COMFYUI_URLS of two simulators started here): `doctor`
 * checks both, `generate --host` runs where it is told, and `serve`'s get_queue shows both hosts.
 */

let a: Simulator;
let b: Simulator;
let work: string;
const nameOf = (s: Simulator) => `127.0.0.1:${s.port}`;

beforeAll(async () => {
  a = await startSimulator({ port: 0, stepDelayMs: 5 });
  b = await startSimulator({ port: 0, stepDelayMs: 5 });
  work = mkdtempSync(join(tmpdir(), 'comfywire-e2e-fleet-'));
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  rmSync(work, { recursive: true, force: true });
});

const env = (urls: string) => ({
  COMFYUI_URLS: urls,
  COMFYWIRE_OUTPUT_DIR: join(work, 'out'),
  COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS_DIR,
  COMFYWIRE_FEED: 'off',
});

it('doctor checks every host: exit 0 when both pass; exit 1 naming the host that fails', async () => {
  const good = await runCli(['doctor'], { cwd: work, env: env(`${a.url},${b.url}`) });
  expect(good.code).toBe(0);
  expect(good.stderr).toMatch(new RegExp(`ok +${nameOf(a)} websocket`));
  expect(good.stderr).toMatch(new RegExp(`ok +${nameOf(b)} websocket`));
  expect(good.stderr).toContain(`2 ComfyUI hosts, every one passes: ${nameOf(a)}, ${nameOf(b)}`);

  const bad = await runCli(['doctor', '--json'], { cwd: work, env: env(`${a.url},http://127.0.0.1:9`) });
  expect(bad.code).toBe(1);
  const report = JSON.parse(bad.stdout) as { ok: boolean; checks: Array<{ name: string; status: string; detail: string }> };
  expect(report.ok).toBe(false);
  expect(report.checks.find((c) => c.name === 'hosts')).toMatchObject({ status: 'fail', detail: '1 of 2 hosts failed: 127.0.0.1:9 (comfyui)' });
  expect(report.checks.find((c) => c.name === `${nameOf(a)} comfyui`)).toMatchObject({ status: 'ok' });
}, 60_000);

it('generate --host runs on that host and says so; an unknown host exits 1 naming the hosts; a malformed one is a usage error', async () => {
  const args = ['generate', 'a lighthouse', '--width', '64', '--height', '64', '--steps', '2', '--json'];
  const pinned = await runCli([...args, '--host', nameOf(b)], { cwd: work, env: env(`${a.url},${b.url}`) });
  expect(pinned.code).toBe(0);
  const out = JSON.parse(pinned.stdout) as { prompt_id: string; status: string; host: string; dispatch: string };
  expect(out).toMatchObject({ status: 'success', host: nameOf(b), dispatch: `pinned to ${nameOf(b)} by the caller` });
  expect(pinned.stderr).toContain(`to ${nameOf(b)} (pinned to ${nameOf(b)} by the caller)`);
  const history = (await (await fetch(`${b.url}/history/${out.prompt_id}`)).json()) as object;
  expect(Object.keys(history)).toEqual([out.prompt_id]);
  const elsewhere = (await (await fetch(`${a.url}/history/${out.prompt_id}`)).json()) as object;
  expect(Object.keys(elsewhere)).toEqual([]);

  const unknown = await runCli([...args, '--host', 'gpu-9'], { cwd: work, env: env(`${a.url},${b.url}`) });
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain(`There is no ComfyUI host named "gpu-9"; the hosts are ${nameOf(a)}, ${nameOf(b)}.`);

  const malformed = await runCli([...args, '--host', 'gpu 9', '--tag', '-x'], { cwd: work, env: env(`${a.url},${b.url}`) });
  expect(malformed.code).toBe(2);
  expect(malformed.stderr).toContain('error: --host: host must be a ComfyUI host name');
  expect(malformed.stderr).toContain('error: --tag: tags[] must be a host tag');
}, 60_000);

it('serve over stdio: get_queue shows both hosts, a job pinned to the second in its queue', async () => {
  const server = await startStdioServer({
    comfyUrl: a.url,
    cwd: work,
    outputDir: join(work, 'out'),
    workflowsDir: WORKFLOWS_DIR,
    env: { COMFYUI_URLS: `${a.url},${b.url}`, COMFYWIRE_FEED: 'off' },
  });
  try {
    const started = await server.call('generate_image', { prompt: 'slow', width: 64, height: 64, steps: 150, wait: false, host: nameOf(b) });
    expect(started.isError).toBeFalsy();
    const id = (started.structuredContent as { prompt_id: string; host: string }).prompt_id;
    expect(started.structuredContent).toMatchObject({ host: nameOf(b) });
    type Q = { hosts: Array<{ name: string; up: boolean; running: number; pending: number; ours: number }>; running: Array<{ prompt_id: string; host: string }>; total: { hosts: number } };
    const q = await eventually(async () => {
      const r = (await server.call('get_queue')).structuredContent as unknown as Q;
      return r.hosts.every((x) => x.up) && r.running.length === 1 ? r : undefined;
    });
    expect(q.hosts.map((x) => [x.name, x.running, x.ours])).toEqual([[nameOf(a), 0, 0], [nameOf(b), 1, 1]]);
    expect(q.running).toEqual([expect.objectContaining({ prompt_id: id, host: nameOf(b) })]);
    expect(q.total.hosts).toBe(2);
    expect((await server.call('cancel_job', { prompt_id: id })).isError).toBeFalsy();
  } finally {
    await server.close();
  }
}, 60_000);
