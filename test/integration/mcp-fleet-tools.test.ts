import { afterEach, expect, it } from '@jest/globals';
import { textOf } from './mcp-harness.js';
import { startMcpFleetHarness, type McpFleetHarness } from './mcp-fleet-harness.js';
import { postForeignPrompt, slowPrompt } from '../helpers/prompts.js';
import { eventually, until } from '../helpers/wait.js';

/**
 * The tools over several simulators on loopback: each answer shows every host and the total, a
 * host that is down is listed as down (never an error for the whole call), and the next call works.
 */

let h: McpFleetHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type HostQueue = { name: string; up: boolean; state: string; running: number; pending: number; ours: number; error?: string };
type Queue = {
  running: Array<{ prompt_id: string; host?: string; ours: boolean; position: number }>;
  pending: Array<{ prompt_id: string; host?: string; ours: boolean; position: number }>;
  hosts: HostQueue[];
  total: { hosts: number; hosts_up: number; running: number; pending: number; ours: number };
};

it('get_queue: each host (up or down) with its running, pending and our jobs, and the total', async () => {
  h = await startMcpFleetHarness([{}, {}, {}]);
  const running = await h.fleet.submit(slowPrompt(200, 20), { host: 'gpu-1' });
  const pending = await h.fleet.submit(slowPrompt(2, 10), { host: 'gpu-1' });
  await until(() => running.state.status === 'running');
  await h.kill(2);

  const result = await h.call('get_queue');
  expect(result.isError).toBeFalsy();
  const view = result.structuredContent as unknown as Queue;
  expect(view.hosts.map((x) => [x.name, x.up, x.running, x.pending, x.ours])).toEqual([
    ['gpu-1', true, 1, 1, 2],
    ['gpu-2', true, 0, 0, 0],
    ['gpu-3', false, 0, 0, 0],
  ]);
  expect(view.hosts[2]!.state).toMatch(/^(reconnecting|connecting)$/);
  expect(view.hosts[2]!.error).toMatch(/^gpu-3 is unreachable/);
  expect(view.total).toEqual({ hosts: 3, hosts_up: 2, running: 1, pending: 1, ours: 2 });
  expect(view.running).toEqual([expect.objectContaining({ prompt_id: running.promptId, host: 'gpu-1', ours: true, position: 0 })]);
  expect(view.pending).toEqual([expect.objectContaining({ prompt_id: pending.promptId, host: 'gpu-1', ours: true, position: 1 })]);
  const text = textOf(result);
  expect(text).toContain('3 ComfyUI hosts, 2 up: 1 running, 1 pending in all, 2 of them ours.');
  expect(text).toContain('gpu-1 (up): 1 running, 1 pending, 2 ours');
  expect(text).toContain('gpu-2 (up): queue empty');
  expect(text).toMatch(/gpu-3 \(down: (reconnecting|connecting)\): queue not read: gpu-3 is unreachable/);

  // Without prompt_id get_workflow_status shows the same per-host queue, and each recent job's host.
  const status = await h.call('get_workflow_status', {});
  expect((status.structuredContent as { queue: Queue }).queue.hosts).toHaveLength(3);
  expect((status.structuredContent as { recent: Array<{ prompt_id: string; host?: string }> }).recent).toContainEqual(
    expect.objectContaining({ prompt_id: running.promptId, host: 'gpu-1' }),
  );
  await h.call('cancel_job', { prompt_id: running.promptId });
}, 30_000);

it('get_system_stats: each host with its stats and what dispatch knows, the down one with its error, a draining one marked, and the totals', async () => {
  h = await startMcpFleetHarness([{}, {}, { drain: true }]);
  await (await h.fleet.submit(slowPrompt(1, 1), { host: 'gpu-2' })).done;
  await h.kill(0);
  const result = await h.call('get_system_stats');
  expect(result.isError).toBeFalsy();
  type Host = { name: string; up: boolean; state: string; error?: string; comfyui_version?: string; devices: unknown[]; queue: number; seconds_per_job?: number; node_classes?: number };
  const s = result.structuredContent as {
    comfyui_url: string;
    hosts: Host[];
    totals: { hosts: number; hosts_up: number; devices: number; vram_total_gib: number };
    devices: Array<{ host?: string }>;
  };
  expect(s.hosts.map((x) => [x.name, x.up])).toEqual([['gpu-1', false], ['gpu-2', true], ['gpu-3', true]]);
  expect(s.hosts[0]!.error).toMatch(/^gpu-1 is unreachable \((reconnecting|connecting)\)/);
  expect(s.hosts[0]!.devices).toEqual([]);
  for (const up of s.hosts.slice(1)) {
    expect(up.comfyui_version).toEqual(expect.any(String));
    expect(up.devices.length).toBeGreaterThan(0);
    expect(up.node_classes).toBeGreaterThan(0);
  }
  // Measured where the job ran, not elsewhere.
  expect(s.hosts[1]!.seconds_per_job).toEqual(expect.any(Number));
  expect(s.hosts[2]!.seconds_per_job).toBeUndefined();
  expect(s.comfyui_url).toBe(h.sims[1]!.url);
  expect(s.totals).toMatchObject({ hosts: 3, hosts_up: 2, devices: s.hosts[1]!.devices.length + s.hosts[2]!.devices.length });
  expect(new Set(s.devices.map((d) => d.host))).toEqual(new Set(['gpu-2', 'gpu-3']));
  const text = textOf(result);
  expect(text).toMatch(/^3 ComfyUI hosts, 2 up: \d+ devices, VRAM [\d.]+ GiB free of [\d.]+ GiB, 0 queued, 0 of our jobs in flight; not answering: gpu-1\./);
  expect(text).toMatch(/gpu-1 \(down: (reconnecting|connecting)\): stats not read/);
  expect(s.hosts.map((x) => (x as { draining?: boolean }).draining)).toEqual([false, false, true]);
  expect(text).toContain('gpu-3 (up, draining: only pinned jobs): ComfyUI');
  expect(text).toMatch(/gpu-2 \(up\): ComfyUI \S+ at http:\/\/127\.0\.0\.1:\d+; queue 0, 0 of our jobs, [\d.]+ s per job, \d+ node classes/);
  // The server keeps serving.
  expect((await h.call('get_queue')).isError).toBeFalsy();
}, 30_000);

it('list_models: the union per folder with the hosts that have each file; a host that is down is named, not fatal', async () => {
  h = await startMcpFleetHarness([
    { sim: { checkpoints: ['a.safetensors', 'shared.safetensors'] } },
    { sim: { checkpoints: ['shared.safetensors', 'b.safetensors'] } },
    { sim: { checkpoints: ['shared.safetensors'] } },
  ]);
  await h.kill(2);
  const result = await h.call('list_models', { folder: 'checkpoints' });
  expect(result.isError).toBeFalsy();
  const s = result.structuredContent as { files: string[]; hosts_of: Array<{ file: string; hosts: string[] }>; unreachable: string[] };
  expect(s.files.sort()).toEqual(['a.safetensors', 'b.safetensors', 'shared.safetensors']);
  expect(s.hosts_of).toEqual(
    expect.arrayContaining([
      { file: 'a.safetensors', hosts: ['gpu-1'] },
      { file: 'shared.safetensors', hosts: ['gpu-1', 'gpu-2'] },
      { file: 'b.safetensors', hosts: ['gpu-2'] },
    ]),
  );
  expect(s.unreachable).toEqual([expect.stringMatching(/^gpu-3: gpu-3 is unreachable/)]);
  const text = textOf(result);
  expect(text).toContain('3 file(s) in checkpoints over 3 hosts:');
  expect(text).toContain('- shared.safetensors (gpu-1, gpu-2)');
  expect(text).toContain('- b.safetensors (gpu-2)');
  expect(text).toContain('Not answering (their files are not listed): gpu-3:');

  const folders = await h.call('list_models');
  expect((folders.structuredContent as { folders: string[] }).folders).toContain('checkpoints');
  const wrong = await h.call('list_models', { folder: 'checkpoint' });
  expect(wrong.isError).toBe(true);
  expect(textOf(wrong)).toContain('ComfyUI has no model folder "checkpoint". Did you mean "checkpoints"?');
  expect((await h.call('list_models', { folder: 'vae' })).structuredContent).toMatchObject({ folder: 'vae', files: [] });
}, 30_000);

it('generate_image: a pinned host is honoured and named with the reason; an unknown host is an error naming the hosts, and the next call works', async () => {
  h = await startMcpFleetHarness([{}, {}]);
  const small = { prompt: 'a lighthouse', width: 64, height: 64, steps: 2 };
  const pinned = await h.call('generate_image', { ...small, host: 'gpu-2' });
  expect(pinned.isError).toBeFalsy();
  const out = pinned.structuredContent as { status: string; host: string; dispatch: string; prompt_id: string };
  expect(out).toMatchObject({ status: 'success', host: 'gpu-2', dispatch: 'pinned to gpu-2 by the caller' });
  expect(textOf(pinned)).toMatch(/^Generated with workflow sd15-txt2img on gpu-2 \(pinned to gpu-2 by the caller\) in /);
  const history = await (await fetch(`${h.sims[1]!.url}/history/${out.prompt_id}`)).json();
  expect(Object.keys(history as object)).toEqual([out.prompt_id]);

  const unknown = await h.call('generate_image', { ...small, host: 'gpu-9' });
  expect(unknown.isError).toBe(true);
  expect(textOf(unknown)).toContain('There is no ComfyUI host named "gpu-9"; the hosts are gpu-1, gpu-2.');
  expect(textOf(unknown)).toContain('get_system_stats');
  const noTag = await h.call('generate_image', { ...small, tags: ['sdxl'] });
  expect(noTag.isError).toBe(true);
  expect(textOf(noTag)).toMatch(/gpu-1.*gpu-2/s);

  const malformed = await h.call('generate_image', { ...small, host: 'gpu 1\n' });
  expect(malformed.isError).toBe(true);
  expect(textOf(malformed)).toContain('host must be a ComfyUI host name');
  const tooMany = await h.call('generate_image', { ...small, tags: Array.from({ length: 17 }, (_, i) => `t${i}`) });
  expect(tooMany.isError).toBe(true);
  expect(textOf(tooMany)).toContain('tags takes at most 16 tags.');

  const next = await h.call('generate_image', { ...small, wait: false });
  expect(next.isError).toBeFalsy();
  const handle = next.structuredContent as { host: string; dispatch: string };
  expect(handle.host).toMatch(/^gpu-[12]$/);
  expect(handle.dispatch).toMatch(new RegExp(`^sent to ${handle.host}: `));
  expect(textOf(next)).toContain(` on ${handle.host} (sent to ${handle.host}: `);
}, 30_000);

it("get_workflow_status: names the job's host and why; says when that host is down; finds a foreign prompt on its host", async () => {
  h = await startMcpFleetHarness([{}, {}]);
  const job = await h.fleet.submit(slowPrompt(400, 20), { host: 'gpu-2' });
  await until(() => job.state.status === 'running');
  const live = await h.call('get_workflow_status', { prompt_id: job.promptId });
  expect(live.structuredContent).toMatchObject({ job: { host: 'gpu-2', dispatch: 'pinned to gpu-2 by the caller' } });
  expect((live.structuredContent as { job: { host_state?: string } }).job.host_state).toBeUndefined();
  expect(textOf(live)).toContain('Host: gpu-2 (pinned to gpu-2 by the caller).');

  // A prompt of another client on gpu-1, finished: found there, its files' addresses on gpu-1.
  const foreignId = await postForeignPrompt(h.sims[0]!.url);
  const foreign = await eventually(async () => {
    const r = await h!.call('get_workflow_status', { prompt_id: foreignId, download: false });
    return (r.structuredContent as { job?: { status: string } }).job?.status === 'success' ? r : undefined;
  });
  const fj = (foreign.structuredContent as { job: { ours: boolean; host: string; missing_files: Array<{ url?: string }> } }).job;
  expect(fj.ours).toBe(false);
  expect(fj.host).toBe('gpu-1');
  expect(fj.missing_files.length).toBeGreaterThan(0);
  for (const m of fj.missing_files) expect(m.url?.startsWith(`${h.sims[0]!.url}/view?`)).toBe(true);
  expect(textOf(foreign)).toContain('Host: gpu-1.');

  await h.kill(1);
  const down = await h.call('get_workflow_status', { prompt_id: job.promptId });
  expect(down.isError).toBeFalsy();
  const dj = (down.structuredContent as { job: { status: string; host: string; host_state: string } }).job;
  expect(dj.status).toMatch(/^(queued|running)$/);
  expect(dj.host_state).toMatch(/^(reconnecting|connecting)$/);
  expect(textOf(down)).toMatch(/gpu-2 is unreachable \((reconnecting|connecting)\); the job resumes or is re-dispatched once it is back\./);
  // The server keeps serving: the other host still answers.
  expect((await h.call('get_queue')).structuredContent).toMatchObject({ total: { hosts: 2, hosts_up: 1 } });
}, 30_000);
