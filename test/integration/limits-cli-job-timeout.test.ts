import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenerate } from '../../src/cli/commands/generate-run.js';
import type { GenerateOptions } from '../../src/cli/commands/generate.js';
import { ComfyClient } from '../../src/comfy/client.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { advance, advanceUntil, untilReal, useFakeClock, useRealClock, closeOnFakeClock } from '../helpers/fake-clock.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';

/**
 * `comfywire generate`'s job timeout (COMFYWIRE_JOB_TIMEOUT_MS, default 30 minutes), driven in
 * process on a fake clock against the simulator: a render that ends 30 s before the limit prints
 * its files; one that ends 30 s after it gives up waiting at 30 minutes exactly, hands back the
 * prompt_id (stderr, and stdout with --json), and leaves the job running in ComfyUI.
 */

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const LIMIT = 30 * MIN;

const OPTIONS: GenerateOptions = { simulate: false, json: false };
const REQUEST = { prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 4 };

let sim: Simulator;
let outputDir: string;
const savedEnv = { ...process.env };
let stdout: string;
let stderr: Array<{ at: number; text: string }>;

beforeEach(async () => {
  useFakeClock();
  sim = await startSimulator({ port: 0, stepDelayMs: 10 });
  outputDir = mkdtempSync(join(tmpdir(), 'comfywire-limits-cli-'));
  for (const k of Object.keys(process.env)) if (k.startsWith('COMFYUI_') || k.startsWith('COMFYWIRE_') || k === 'DATABASE_URL') delete process.env[k];
  Object.assign(process.env, {
    // The call log in the test's folder, never the user's state folder.
    COMFYWIRE_CALL_LOG: join(outputDir, '.state', 'calls.jsonl'),
    COMFYWIRE_STATE_DIR: join(outputDir, '.state'),
    COMFYUI_URL: sim.url,
    COMFYWIRE_OUTPUT_DIR: outputDir,
    COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS_DIR,
    COMFYWIRE_FEED: 'off',
    COMFYWIRE_LOG_LEVEL: 'error',
    // HTTP deadlines have their own tests (limits-http); here they must not race the fast clock.
    COMFYWIRE_REQUEST_TIMEOUT_MS: String(10 * HOUR),
  });
  stdout = '';
  stderr = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push({ at: Date.now(), text: String(chunk) });
    return true;
  });
});

afterEach(async () => {
  jest.restoreAllMocks();
  process.env = { ...savedEnv };
  await closeOnFakeClock(sim.close());
  rmSync(outputDir, { recursive: true, force: true });
});

/** Runs the command with the sampler held for `samplerMs`; returns its exit code and timing. */
async function generate(samplerMs: number, opts: Partial<GenerateOptions> = {}) {
  sim.faults.slowNode({ classType: 'KSampler' }, samplerMs);
  let code: number | undefined;
  void runGenerate(REQUEST, { ...OPTIONS, ...opts }).then((c) => (code = c));
  // Template, checks and submission need no timer: wait for them with the clock standing still.
  await untilReal(() => stderr.some((l) => l.text.startsWith('submitted ')));
  const submitted = stderr.find((l) => l.text.startsWith('submitted '))!;
  const promptId = /^submitted (\S+)/.exec(submitted.text)![1]!;
  // Large steps while the sampler sleeps; small ones from 45 s before the limit, where the end of
  // the render (history, download: real I/O between steps) must not be outrun by the clock.
  await advance(LIMIT - 45 * S - (Date.now() - submitted.at), { stepMs: 10 * S });
  expect(code).toBeUndefined();
  await advanceUntil(() => code !== undefined, 5 * MIN, { stepMs: 250 });
  return { code: code!, promptId, submittedAt: submitted.at, lines: stderr.map((l) => l.text).join('') };
}

/** The job's line in the call log (written as the command ends; read once it has landed). */
async function callLine(): Promise<Record<string, unknown>> {
  const file = join(outputDir, '.state', 'calls.jsonl');
  const read = () => (existsSync(file) ? readFileSync(file, 'utf8').trim() : '');
  await untilReal(() => read() !== '');
  const lines = read().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe(`generate's job timeout (default ${LIMIT / MIN} min)`, () => {
  it('a render ending 30 s before the limit: the files are printed, exit 0', async () => {
    const r = await generate(LIMIT - 30 * S);
    expect(r.lines).toMatch(/done in \d+\.\d s: 1 file\(s\) downloaded/);
    expect(r.code).toBe(0);
    const files = stdout.trim().split('\n');
    expect(files).toHaveLength(1);
    expect(files[0]).toContain(join(outputDir, r.promptId));
    expect(existsSync(files[0]!)).toBe(true);
    expect(await callLine()).toMatchObject({ tool: 'cli:generate', status: 'success', prompt_id: r.promptId, prompt: REQUEST.prompt, host: sim.url });
  });

  it('a render ending 30 s after it: the wait ends at 30 min exactly with the prompt_id, and the job keeps running', async () => {
    const r = await generate(LIMIT + 30 * S, { json: true });
    expect(r.code).toBe(1);
    const gaveUp = stderr.find((l) => l.text.startsWith('still running after'))!;
    expect(gaveUp.text).toContain(`still running after 1800 s: prompt ${r.promptId} keeps going in ComfyUI`);
    expect(gaveUp.at - r.submittedAt).toBe(LIMIT);
    expect(JSON.parse(stdout)).toMatchObject({ prompt_id: r.promptId, status: 'running', timed_out_after_s: 1_800 });
    // Nothing was cancelled: ComfyUI is still running it.
    const comfy = new ComfyClient({ baseUrl: sim.url, auth: { kind: 'none' }, clientId: 'check', requestTimeoutMs: 10 * HOUR });
    let queue: Awaited<ReturnType<ComfyClient['getQueue']>> | undefined;
    void comfy.getQueue().then((q) => (queue = q));
    await untilReal(() => queue !== undefined);
    expect(queue!.running.map((i) => i.promptId)).toEqual([r.promptId]);
    // The call log tells the truth: the command timed out, after the whole limit.
    const line = await callLine();
    expect(line).toMatchObject({ tool: 'cli:generate', status: 'timed-out', prompt_id: r.promptId, workflow: 'sd15-txt2img' });
    expect(line['duration_ms']).toBeGreaterThanOrEqual(LIMIT);
    expect(line['duration_ms']).toBeLessThan(LIMIT + MIN);
  });
});

describe('the job timeout covers the downloads too', () => {
  it('a render ending 60 s before the limit whose file trickles (1 byte a second): at 30 min exactly the download stops, exit 1, nothing partial left', async () => {
    process.env['COMFYWIRE_DOWNLOAD_TIMEOUT_MS'] = String(2 * HOUR);
    process.env['COMFYWIRE_DOWNLOAD_MIN_KBPS'] = '0';
    sim.faults.trickleViews(1, S);
    const r = await generate(LIMIT - 60 * S, { json: true });
    expect(r.code).toBe(1);
    const stopped = stderr.find((l) => l.text.startsWith('the job finished in ComfyUI'))!;
    expect(stopped.text).toBe(
      'the job finished in ComfyUI, but its outputs were still downloading when the job timeout of 1800 s (--timeout, COMFYWIRE_JOB_TIMEOUT_MS) passed: downloads stopped.\n',
    );
    expect(stopped.at - r.submittedAt).toBe(LIMIT);
    const out = JSON.parse(stdout) as { status: string; files: string[]; download_errors: string[] };
    expect(out.status).toBe('success');
    expect(out.files).toEqual([]);
    expect(out.download_errors).toHaveLength(1);
    expect(out.download_errors[0]).toMatch(/^\S+\.png: stopped: the job timeout of 1800 s \(--timeout, COMFYWIRE_JOB_TIMEOUT_MS\) passed while it was downloading/);
    expect(readdirSync(outputDir, { recursive: true }).filter((f) => String(f).endsWith('.part'))).toEqual([]);
  });

  it('the per-file deadline ends a trickle before the job timeout: exit 1 with the error naming the file, the limit and the variable', async () => {
    process.env['COMFYWIRE_DOWNLOAD_TIMEOUT_MS'] = String(20 * S);
    process.env['COMFYWIRE_DOWNLOAD_MIN_KBPS'] = '0';
    sim.faults.trickleViews(1, S);
    const r = await generate(LIMIT - 40 * S);
    expect(r.code).toBe(1);
    expect(r.lines).toMatch(/done in \d+\.\d s: 0 file\(s\) downloaded/);
    expect(r.lines).toMatch(/download failed: \S+\.png: Downloading output\/\S+\.png took longer than the 20 s limit per file \(COMFYWIRE_DOWNLOAD_TIMEOUT_MS\)/);
    expect(stderr.some((l) => l.text.startsWith('still running after'))).toBe(false);
  });
});
