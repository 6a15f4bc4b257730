import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { exitOf, runCli, startCli } from '../helpers/cli.js';

/**
 * `comfywire tail --attach <pid>` on a CLI `generate`: ComfyUI sends a prompt's execution events
 * only to the socket that submitted it, so the only way to watch a terminal job from elsewhere is
 * the feed of the generate process itself.
 */
describe('tail --attach to a generate process', () => {
  let sim: Simulator;
  let out: string;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, stepDelayMs: 5 });
    out = mkdtempSync(join(tmpdir(), 'comfywire-tail-gen-'));
  });
  afterAll(async () => {
    sim.faults.resumeWorker();
    await sim.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('sees the whole job, node names included, and ends when generate exits', async () => {
    // The job waits in the queue until tail is attached: no event can go by before it listens.
    sim.faults.pauseWorker();
    const env = { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: out };
    const gen = await startCli(['generate', 'watched from elsewhere', '--steps', '3', '--width', '64', '--height', '64'], /submitted ([0-9a-f-]{36})/, { env });
    const promptId = gen.match[1]!;
    try {
      const tail = await startCli(['tail', '--attach', String(gen.child.pid)], new RegExp(`attached to comfywire pid ${gen.child.pid} \\(generate\\)`), { env });
      sim.faults.resumeWorker();
      expect(await exitOf(gen.child, 20_000)).toBe(0);
      expect(await exitOf(tail.child, 10_000)).toBe(0);
      const { stdout, stderr } = tail.output();
      const short = promptId.slice(0, 8);
      expect(stdout).toMatch(new RegExp(`${short}\\s+execution_start`));
      expect(stdout).toMatch(new RegExp(`${short}\\s+progress\\s+#3 KSampler .* 3/3`));
      expect(stdout).toMatch(new RegExp(`${short}\\s+execution_success`));
      expect(stderr).toContain('the comfywire process went away');
    } finally {
      sim.faults.resumeWorker();
      gen.child.kill('SIGKILL');
    }
  });

  it('a generate run with COMFYWIRE_FEED=off publishes nothing: tail --attach says so and exits 2', async () => {
    sim.faults.pauseWorker();
    const env = { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: out };
    const gen = await startCli(['generate', 'not watched', '--steps', '1', '--width', '64', '--height', '64'], /submitted/, {
      env: { ...env, COMFYWIRE_FEED: 'off' },
    });
    try {
      const tail = await runCli(['tail', '--attach', String(gen.child.pid)], { env });
      expect(tail.code).toBe(2);
      expect(tail.stderr).toContain(`No running comfywire process with pid ${gen.child.pid}`);
    } finally {
      sim.faults.resumeWorker();
      expect(await exitOf(gen.child, 20_000)).toBe(0);
    }
  });
});
