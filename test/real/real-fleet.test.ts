import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { promptNeeds } from '../../src/fleet/prompt-needs.js';
import { prepareGeneration } from '../../src/generation/prepare.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { until } from '../helpers/wait.js';

/**
 * A fleet of a REAL ComfyUI and the simulator (opt-in, COMFYWIRE_REAL_COMFYUI_URL): the real
 * server's catalog is read from its own /object_info and /models (hundreds of node classes, twenty
 * model folders, custom_nodes among them), and dispatch sends each prompt where it can run: a
 * checkpoint only the simulator has goes there, a node class only the real server has goes there
 * and really renders.
 */

const REAL_URL = process.env['COMFYWIRE_REAL_COMFYUI_URL']?.replace(/\/+$/, '');
const CHECKPOINT = process.env['COMFYWIRE_REAL_CHECKPOINT'] ?? 'sd15-random.safetensors';
const suite = REAL_URL ? describe : describe.skip;
const MIN = 60_000;

suite('a fleet of a real ComfyUI and the simulator', () => {
  let sim: Simulator;
  let fleet: Fleet;
  let dir: string;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, stepDelayMs: 5 });
    dir = mkdtempSync(join(tmpdir(), 'comfywire-real-fleet-'));
    const hostsFile = join(dir, 'hosts.json');
    writeFileSync(hostsFile, JSON.stringify([{ name: 'real', url: REAL_URL }, { name: 'sim', url: sim.url }]));
    const config = loadConfig({}, {
      cwd: dir,
      overrides: { COMFYWIRE_HOSTS_FILE: hostsFile, COMFYWIRE_OUTPUT_DIR: join(dir, 'out'), COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS_DIR, COMFYWIRE_FEED: 'off' },
    });
    fleet = new Fleet({ config, logger: silentLogger() }).start();
    await until(() => fleet.hosts.every((h) => h.catalog.peek()?.ok === true), MIN);
  }, 2 * MIN);

  afterAll(async () => {
    await fleet?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the real server\'s catalog: its node classes and its models, without custom_nodes', () => {
    const real = fleet.host('real')!.catalog.peek();
    expect(real?.ok).toBe(true);
    if (!real?.ok) return;
    expect(real.catalog.nodeClasses.size).toBeGreaterThan(100);
    expect(real.catalog.models.has(CHECKPOINT)).toBe(true);
    expect([...real.catalog.models].some((m) => m.endsWith('.py'))).toBe(false);
    const status = fleet.hostList().map((h) => h.status());
    expect(status.map((s) => [s.name, s.up])).toEqual([['real', true], ['sim', true]]);
  });

  it('a checkpoint only the simulator has goes to the simulator; the real server is named as lacking it', async () => {
    const prepared = await prepareGeneration(fleet, { prompt: 'x', checkpoint: 'v1-5-pruned-emaonly.safetensors', width: 64, height: 64, steps: 2 } as GenerateRequest);
    const decision = fleet.decide({ needs: promptNeeds(prepared.prompt), workflow: prepared.templateName });
    expect(decision).toMatchObject({ ok: true, host: 'sim' });
    const tagsOnly = fleet.decide({ needs: promptNeeds(prepared.prompt), workflow: prepared.templateName, exclude: new Set(['sim']) });
    expect(tagsOnly).toMatchObject({ ok: false, rejected: [{ host: 'real', why: 'lacks model v1-5-pruned-emaonly.safetensors' }, { host: 'sim', why: 'it lost this job' }] });
    const job = await fleet.submit(prepared.prompt, { workflow: prepared.templateName });
    expect(await job.done).toMatchObject({ status: 'success', host: 'sim' });
  });

  it('a node class only the real server has (ImageBlur) goes there and renders', async () => {
    const prepared = await prepareGeneration(fleet, { prompt: 'a lighthouse', checkpoint: CHECKPOINT, width: 64, height: 64, steps: 2 } as GenerateRequest);
    // Blur the decoded image before saving: ImageBlur is core ComfyUI, not in the simulator.
    const save = Object.entries(prepared.prompt).find(([, n]) => n.class_type === 'SaveImage')!;
    prepared.prompt['900'] = { class_type: 'ImageBlur', inputs: { image: save[1].inputs['images'], blur_radius: 1, sigma: 1 } };
    save[1].inputs['images'] = ['900', 0];
    const needs = promptNeeds(prepared.prompt);
    expect(fleet.decide({ needs, workflow: 'x' })).toMatchObject({ ok: true, host: 'real' });
    expect(fleet.decide({ needs, workflow: 'x', exclude: new Set(['real']) })).toMatchObject({
      ok: false,
      rejected: [{ host: 'real', why: 'it lost this job' }, { host: 'sim', why: 'lacks node class ImageBlur' }],
    });
    const t0 = Date.now();
    const job = await fleet.submit(prepared.prompt, { workflow: prepared.templateName });
    const end = await job.done;
    process.stderr.write(`real-fleet: ImageBlur job on ${end.host} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${end.dispatch}\n`);
    expect(end).toMatchObject({ status: 'success', host: 'real' });
    expect(end.dispatch).toMatch(/^sent to real: /);
    expect(end.downloads.length).toBe(1);
  }, 15 * MIN);
});
