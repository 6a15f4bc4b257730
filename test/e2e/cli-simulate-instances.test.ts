import { exitOf, runCli, startCli } from '../helpers/cli.js';

/** `comfywire simulate --instances N`: several simulated hosts from the built CLI, for COMFYUI_URLS. */

const getJson = async (url: string): Promise<any> => (await fetch(url)).json();

it('starts two hosts on free ports with their own checkpoints, prints COMFYUI_URLS, and SIGTERM closes both', async () => {
  const cli = await startCli(
    ['simulate', '--instances', '2', '--port', '0', '--step-delay', '5,15', '--checkpoints', 'a.safetensors,b.safetensors;b.safetensors', '--model-load', '250'],
    /^COMFYUI_URLS=(http:\/\/127\.0\.0\.1:\d+),(http:\/\/127\.0\.0\.1:\d+)$/m,
  );
  const urls = [cli.match[1]!, cli.match[2]!];
  try {
    expect(urls[0]).not.toBe(urls[1]);
    // Each instance's own line names its URL and shape.
    expect(cli.output().stderr).toContain(`simulator 1/2 listening on ${urls[0]}`);
    expect(cli.output().stderr).toMatch(new RegExp(`simulator 2/2 listening on ${urls[1]} .*step delay 15 ms, model load 250 ms, b\\.safetensors`));
    for (const url of urls) expect((await getJson(`${url}/system_stats`)).system.comfyui_version).toBe('0.3.64');
    expect(await getJson(`${urls[0]}/models/checkpoints`)).toEqual(['a.safetensors', 'b.safetensors']);
    expect(await getJson(`${urls[1]}/models/checkpoints`)).toEqual(['b.safetensors']);
    expect(cli.output().stdout).toBe('');
  } finally {
    cli.child.kill('SIGTERM');
  }
  expect(await exitOf(cli.child)).toBe(0);
  for (const url of urls) await expect(fetch(`${url}/system_stats`)).rejects.toThrow();
});

it.each([
  [['--instances', '3', '--step-delay', '5,15'], /--step-delay: 2 values for 3 instances/],
  [['--instances', '2', '--checkpoints', 'a;b;c'], /--checkpoints: 3 values for 2 instances/],
  [['--instances', '2', '--model-load', '1,2,3'], /--model-load: 3 values for 2 instances/],
  [['--instances', '2', '--step-delay', 'fast'], /--step-delay.*takes milliseconds/],
  [['--instances', '0'], /--instances.*whole number from 1 to 256/],
  [['--instances', '2', '--checkpoints', 'a;;b'], /--checkpoints.*a name is empty/],
  [['--api', '0.4'], /--api.*takes 0\.3\.64 or latest, got "?0\.4/],
])('a bad list exits 2 and says what to fix: %j', async (args, message) => {
  const r = await runCli(['simulate', '--port', '0', ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toContain('listening on');
});

it('--api latest serves the jobs API; the default answers 404 there as ComfyUI 0.3.64 does', async () => {
  const cli = await startCli(['simulate', '--port', '0', '--api', 'latest'], /listening on (http:\/\/127\.0\.0\.1:\d+) .*API latest/m);
  try {
    const jobs = await getJson(`${cli.match[1]}/api/jobs`);
    expect(jobs).toEqual({ jobs: [], pagination: { offset: 0, limit: null, total: 0, has_more: false } });
  } finally {
    cli.child.kill('SIGTERM');
  }
  expect(await exitOf(cli.child)).toBe(0);
  const old = await startCli(['simulate', '--port', '0'], /listening on (http:\/\/127\.0\.0\.1:\d+) .*API 0\.3\.64/m);
  try {
    expect((await fetch(`${old.match[1]}/api/jobs`)).status).toBe(404);
  } finally {
    old.child.kill('SIGTERM');
  }
  expect(await exitOf(old.child)).toBe(0);
});
