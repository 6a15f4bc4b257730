import { mkdtempSync, rmSync, existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli, startCli, exitOf } from '../helpers/cli.js';

/** The built `comfywire` binary, as a person runs it from a terminal. */

describe('comfywire generate', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'comfywire-cli-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('--simulate: live progress on stderr, a real PNG downloaded, its path on stdout', async () => {
    const r = await runCli(['generate', 'a lighthouse at dusk', '--simulate', '--seed', '5', '--steps', '4', '--width', '96', '--height', '64'], {
      env: { COMFYWIRE_OUTPUT_DIR: out },
    });
    expect(r.stderr).toContain('KSampler');
    expect(r.stderr).toMatch(/step 4\/4/);
    expect(r.code).toBe(0);
    const paths = r.stdout.trim().split('\n');
    expect(paths).toHaveLength(1);
    expect(paths[0]!.startsWith(out)).toBe(true);
    const meta = await sharp(paths[0]!).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 96, 64]);
    expect(r.stderr).toContain('seed 5');
  });

  it('--json prints one object with status, seed and files', async () => {
    const r = await runCli(['generate', 'json please', '--simulate', '--steps', '2', '--width', '64', '--height', '64', '--json'], {
      env: { COMFYWIRE_OUTPUT_DIR: out },
    });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; seed: number; files: string[]; prompt_id: string };
    expect(result.status).toBe('success');
    expect(Number.isSafeInteger(result.seed)).toBe(true);
    expect(existsSync(result.files[0]!)).toBe(true);
    expect(readFileSync(result.files[0]!).subarray(1, 4).toString()).toBe('PNG');
  });

  it('several kinds of output: each path on stdout, what each file is on stderr and in --json', async () => {
    const args = ['generate', 'a bell at dawn', '--simulate', '--workflow', 'multi-output', '--steps', '2', '--width', '96', '--height', '64'];
    const r = await runCli(args, { env: { COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_FFMPEG: 'off' } });
    expect(r.code).toBe(0);
    const paths = r.stdout.trim().split('\n');
    const byExt = (ext: string) => paths.filter((p) => p.endsWith(ext));
    expect(byExt('.flac')).toHaveLength(1);
    expect(byExt('.webp')).toHaveLength(1);
    expect(byExt('.png').length).toBeGreaterThanOrEqual(1);
    const line = (p: string) => r.stderr.split('\n').find((l) => l.trim().startsWith(`${p.split('/').pop()!}:`)) ?? '';
    expect(line(byExt('.png')[0]!)).toMatch(/: image, 96x64, \d+ bytes$/);
    expect(line(byExt('.webp')[0]!)).toMatch(/: animated, 96x64, \d+ frames, [\d.]+ s, \d+ bytes$/);
    expect(line(byExt('.flac')[0]!)).toMatch(/: audio, [\d.]+ s, \d+ bytes$/);

    const json = await runCli([...args, '--json'], { env: { COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_FFMPEG: 'off' } });
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { files: string[]; outputs: Array<{ path: string; kind: string; mime: string; bytes: number; width?: number; duration_s?: number }> };
    expect(result.outputs.map((o) => o.path)).toEqual(result.files);
    const audio = result.outputs.find((o) => o.kind === 'audio')!;
    expect(audio).toMatchObject({ mime: 'audio/flac' });
    expect(audio.duration_s).toBeGreaterThan(0);
    for (const o of result.outputs) expect(o.bytes).toBe(statSync(o.path).size);
    expect(result.outputs.find((o) => o.kind === 'animated')).toMatchObject({ mime: 'image/webp', width: 96 });
  });

  it('an unknown workflow exits 2 and lists the available ones', async () => {
    const r = await runCli(['generate', 'x', '--simulate', '--workflow', 'nope'], { env: { COMFYWIRE_OUTPUT_DIR: out } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No workflow template named "nope"');
    expect(r.stderr).toContain('sd15-txt2img');
  });

  it('an out-of-range value exits 2 and says the allowed range', async () => {
    const r = await runCli(['generate', 'x', '--simulate', '--steps', '100000'], { env: { COMFYWIRE_OUTPUT_DIR: out } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/steps/);
    expect(r.stderr).toMatch(/150/);
  });

  it('an option of the wrong kind (--steps 0, --seed 1.5) exits 2 with a line naming the option', async () => {
    for (const args of [['--steps', '0'], ['--seed', '1.5']]) {
      const r = await runCli(['generate', 'x', '--simulate', ...args], { env: { COMFYWIRE_OUTPUT_DIR: out } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${args[0]}:`);
      expect(r.stderr).not.toContain('"code"');
    }
  });

  it('an unreachable configured ComfyUI exits 1 and names the URL', async () => {
    const r = await runCli(['generate', 'x'], { env: { COMFYUI_URL: 'http://127.0.0.1:9', COMFYWIRE_OUTPUT_DIR: out } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('http://127.0.0.1:9');
    expect(r.stderr).toMatch(/hint:/);
  });

  it('an invalid setting exits 2 and names the variable', async () => {
    const r = await runCli(['generate', 'x'], { env: { COMFYUI_URL: 'ftp://nowhere' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('COMFYUI_URL');
  });

  it('a generation failure (execution error) exits 1 and explains it', async () => {
    // The simulator has no such checkpoint, and an explicit choice is never substituted.
    const r = await runCli(['generate', 'x', '--simulate', '--checkpoint', 'sdxl_base.safetensors'], { env: { COMFYWIRE_OUTPUT_DIR: out } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sdxl_base\.safetensors/);
    expect(r.stderr).toMatch(/v1-5-pruned-emaonly|sd15-random/);
  });
});

describe('comfywire serve --http', () => {
  it('refuses a non-loopback bind without a configured token, exits 2 and says how to fix it', async () => {
    const r = await runCli(['serve', '--http', '--port', '0', '--host', '0.0.0.0'], { env: { COMFYUI_URL: 'http://127.0.0.1:9' }, timeoutMs: 15_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Refusing to serve MCP on 0\.0\.0\.0/);
    expect(r.stderr).toContain('COMFYWIRE_HTTP_TOKEN');
  });
});

describe('comfywire simulate + tail', () => {
  it('tail prints the live stream of a simulator, reconnect notices included, and exits 0 on Ctrl-C', async () => {
    const sim = await startCli(['simulate', '--port', '0', '--step-delay', '5'], /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const url = sim.match[1]!;
    try {
      // "as an observer" is printed once the socket has opened: from then on no broadcast is missed.
      const tail = await startCli(['tail'], /connected to http\S+ as an observer/, { env: { COMFYUI_URL: url } });
      // A prompt posted without client_id: ComfyUI broadcasts its progress to every socket.
      const res = await fetch(`${url}/prompt`, {
        method: 'POST',
        body: JSON.stringify({
          prompt: {
            '1': { class_type: 'HarnessSlowProgress', inputs: { steps: 3, delay_ms: 10, nonce: 1 } },
            '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
          },
        }),
      });
      expect(res.status).toBe(200);
      await tail.waitForOutput('stdout', /progress .*3\/3/);
      const { stdout, stderr } = tail.output();
      expect(stdout).toMatch(/status\s+queue_remaining=1/);
      // Node class looked up from ComfyUI's queue: the events themselves carry only ids.
      expect(stdout).toMatch(/progress\s+#1 HarnessSlowProgress .*█.* 3\/3/);
      expect(stderr).toMatch(/only to the client that submitted/);
      tail.child.kill('SIGINT');
      expect(await exitOf(tail.child)).toBe(0);
    } finally {
      sim.child.kill('SIGINT');
      await exitOf(sim.child);
    }
  });

  it('tail --json prints raw JSON lines filtered by --prompt', async () => {
    const sim = await startCli(['simulate', '--port', '0', '--step-delay', '5'], /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const url = sim.match[1]!;
    try {
      const tail = await startCli(['tail', '--json', '--prompt', 'feedbeef'], /connected to http\S+ as an observer/, { env: { COMFYUI_URL: url } });
      // The third prompt is a barrier: ComfyUI runs prompts in order on one socket and tail prints
      // in order, so once a line of it is printed every event of the other two has been seen.
      const ids = ['feedbeef-0000-4000-8000-000000000001', 'cafecafe-0000-4000-8000-000000000002', 'feedbeef-0000-4000-8000-000000000003'];
      for (const id of ids) {
        await fetch(`${url}/prompt`, {
          method: 'POST',
          body: JSON.stringify({
            prompt_id: id,
            prompt: {
              '1': { class_type: 'HarnessSlowProgress', inputs: { steps: 2, delay_ms: 5, nonce: 11 + ids.indexOf(id) } },
              '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
            },
          }),
        });
      }
      await tail.waitForOutput('stdout', /feedbeef-0000-4000-8000-000000000003[^\n]*\n/);
      const { stdout } = tail.output();
      // Whole lines only: tail is still printing the barrier prompt's events.
      const all = stdout.slice(0, stdout.lastIndexOf('\n')).split('\n').map((l) => JSON.parse(l) as { type: string; data: { prompt_id?: string } });
      for (const l of all) expect([ids[0], ids[2]]).toContain(l.data.prompt_id);
      const lines = all.filter((l) => l.data.prompt_id === ids[0]);
      expect(lines.length).toBeGreaterThanOrEqual(4);
      expect(lines.map((l) => l.type)).toContain('progress');
      tail.child.kill('SIGINT');
      expect(await exitOf(tail.child)).toBe(0);
    } finally {
      sim.child.kill('SIGINT');
      await exitOf(sim.child);
    }
  });
});
