import { mkdtempSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor, doctorPassed, formatChecks } from '../../src/doctor/run-doctor.js';
import { checkNodeVersion } from '../../src/doctor/local-checks.js';
import type { DoctorCheck } from '../../src/doctor/types.js';
import { packagedFfmpeg } from '../../src/media/ffmpeg.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { REPO_ROOT } from '../helpers/engine-harness.js';
import { runCli } from '../helpers/cli.js';

const byName = (checks: DoctorCheck[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

/**
 * A port nothing listens on. Not a freed ephemeral port: another test's server (port 0) can be
 * handed the same one between the two runs below. Port 9 (discard) is never handed out for port 0.
 */
const CLOSED_PORT = 9;

/** The video decoder line passes whether or not the optional ffmpeg is installed here: the packaged one, or off. */
const DECODER = packagedFfmpeg() ?? 'off';

describe('comfywire doctor', () => {
  let out: string;
  beforeEach(() => { out = mkdtempSync(join(tmpdir(), 'comfywire-doctor-')); });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  describe('against the simulator', () => {
    let sim: Simulator;
    beforeAll(async () => { sim = await startSimulator({ stepDelayMs: 1 }); });
    afterAll(async () => { await sim.close(); });

    it('passes every check and reports version, devices, flags and checkpoints', async () => {
      const checks = await runDoctor({ env: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_FFMPEG: DECODER } });
      expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
      expect(checks.map((c) => c.name)).toEqual(['node', 'config', 'comfyui', 'auth', 'websocket', 'templates', 'default workflow', 'custom nodes', 'checkpoints', 'output folder', 'video decoder', 'call log']);
      const c = byName(checks);
      expect(c['comfyui']!.detail).toMatch(/ComfyUI \d+\.\d+\.\d+; simulated \(8\.0 GiB VRAM/);
      expect(c['websocket']!.detail).toMatch(/feature_flags in \d+ ms/);
      expect(c['checkpoints']!.detail).toContain('v1-5-pruned-emaonly.safetensors');
      expect(c['output folder']!.detail).toBe(`${out} is writable`);
      expect(doctorPassed(checks)).toBe(true);
    });

    it('says where the call log goes, or that it is off', async () => {
      const file = join(out, 'state', 'calls.jsonl');
      const on = byName(await runDoctor({ env: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_CALL_LOG: file, COMFYWIRE_CALL_LOG_MAX_MB: '2', COMFYWIRE_CALL_LOG_FILES: '3' } }));
      expect(on['call log']).toEqual({ name: 'call log', status: 'ok', detail: `${file} (rotated at 2 MB, 3 files kept)` });
      const off = byName(await runDoctor({ env: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_CALL_LOG: 'off' } }));
      expect(off['call log']).toEqual({ name: 'call log', status: 'ok', detail: 'off (COMFYWIRE_CALL_LOG=off)' });
      // No DATABASE_URL: no database check at all.
      expect(off['call log database']).toBeUndefined();
    });

    it('names templates that use node classes the server lacks, and a broken template', async () => {
      const dir = join(out, 'workflows');
      mkdirSync(dir);
      copyFileSync(join(REPO_ROOT, 'workflows', 'sd15-txt2img.json'), join(dir, 'sd15-txt2img.json'));
      writeFileSync(join(dir, 'upscale.json'), JSON.stringify({ 1: { class_type: 'UltimateSDUpscale', inputs: {} }, 2: { class_type: 'SaveImage', inputs: { images: ['1', 0] } } }));
      writeFileSync(join(dir, 'broken.json'), '{"1": ');
      const c = byName(await runDoctor({ env: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_WORKFLOWS_DIR: dir, COMFYWIRE_DEFAULT_WORKFLOW: 'missing' } }));
      expect(c['custom nodes']).toMatchObject({ status: 'fail', detail: expect.stringContaining('UltimateSDUpscale (used by upscale)') });
      expect(c['custom nodes']!.fix).toMatch(/custom node/i);
      expect(c['templates']).toMatchObject({ status: 'warn', detail: expect.stringContaining('broken: workflows/broken.json is not valid JSON') });
      expect(c['default workflow']).toMatchObject({ status: 'fail', fix: expect.stringContaining('sd15-txt2img') });
    });

    it('--simulate and --json on the built CLI: exit 0, JSON on stdout only', async () => {
      const r = await runCli(['doctor', '--simulate', '--json'], { env: { COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_FFMPEG: DECODER } });
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as { ok: boolean; checks: DoctorCheck[] };
      expect(report.ok).toBe(true);
      expect(report.checks).toHaveLength(12);
    });

    it('--simulate replaces configured hosts too (COMFYUI_URLS of dead ports): one host, all passing', async () => {
      const dead = `http://127.0.0.1:${CLOSED_PORT}`;
      const r = await runCli(['doctor', '--simulate', '--json'], { env: { COMFYUI_URLS: `${dead},http://127.0.0.1:9`, COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_FFMPEG: DECODER } });
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as { ok: boolean; checks: DoctorCheck[] };
      expect(report.ok).toBe(true);
      expect(report.checks).toHaveLength(12);
      expect(r.stdout).not.toContain(dead);
    });
  });

  it('a closed port: reachability fails with a fix, exit code 1', async () => {
    const url = `http://127.0.0.1:${CLOSED_PORT}`;
    const r = await runCli(['doctor', '--json'], { env: { COMFYUI_URL: url, COMFYWIRE_OUTPUT_DIR: out } });
    expect(r.code).toBe(1);
    const c = byName((JSON.parse(r.stdout) as { checks: DoctorCheck[] }).checks);
    expect(c['comfyui']).toMatchObject({ status: 'fail', detail: expect.stringContaining('not reachable') });
    expect(c['comfyui']!.fix).toMatch(/COMFYUI_URL/);
    expect(c['websocket']).toBeUndefined();
    expect(c['templates']!.status).toBe('ok');

    const human = await runCli(['doctor'], { env: { COMFYUI_URL: url, COMFYWIRE_OUTPUT_DIR: out } });
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^fail +comfyui/m);
    expect(human.stderr).toMatch(/fix: Check that ComfyUI is running/);
  });

  describe('behind a proxy that wants a token', () => {
    let sim: Simulator;
    beforeAll(async () => { sim = await startSimulator({ authProxy: { header: 'authorization', value: 'Bearer open-sesame' } }); });
    afterAll(async () => { await sim.close(); });

    it('without a token: auth fails with the hint, exit code 1', async () => {
      const r = await runCli(['doctor'], { env: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: out } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^ok +comfyui .*HTTP 401/m);
      expect(r.stderr).toMatch(/^fail +auth +HTTP 401: no credentials were sent/m);
      expect(r.stderr).toContain('fix: ComfyUI itself has no login');
      expect(r.stderr).toContain('COMFYUI_AUTH_TOKEN');
    });

    it('with the token: HTTP and the WebSocket upgrade both pass', async () => {
      const checks = await runDoctor({ env: { COMFYUI_URL: sim.url, COMFYUI_AUTH_TOKEN: 'open-sesame', COMFYWIRE_OUTPUT_DIR: out, COMFYWIRE_FFMPEG: DECODER } });
      const c = byName(checks);
      expect(c['auth']).toMatchObject({ status: 'ok', detail: 'bearer credentials accepted' });
      expect(c['websocket']!.status).toBe('ok');
      expect(doctorPassed(checks)).toBe(true);
      expect(formatChecks(checks)).toMatch(/12 ok, 0 warn, 0 fail\n$/);
    });
  });

  it('an invalid configuration fails the config check with its hint and stops there', async () => {
    const checks = await runDoctor({ env: { COMFYUI_URL: 'ftp://nope' } });
    expect(checks.map((c) => [c.name, c.status])).toEqual([['node', 'ok'], ['config', 'fail']]);
    expect(checks[1]!.detail).toContain('COMFYUI_URL');
    expect(checks[1]!.fix).toMatch(/\.env/);
  });

  it('Node.js older than 20.18.1 fails with how to upgrade', () => {
    expect(['18.20.4', '20.17.0', '20.18.0', '20.18.1', '22.0.0'].map((v) => checkNodeVersion(v).status)).toEqual(['fail', 'fail', 'fail', 'ok', 'ok']);
    expect(checkNodeVersion('20.0.0').fix).toMatch(/Node\.js 20\.18\.1 or newer/);
  });
});
