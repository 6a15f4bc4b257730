import { afterEach, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareGeneration } from '../../src/generation/prepare.js';
import type { GenerateRequest } from '../../src/generation/request.js';
import { encodePng } from '../../src/simulator/png.js';
import { startFleetHarness, type FleetHarness } from '../helpers/fleet-harness.js';

/**
 * An input image on a fleet: uploaded to every host that is up, under a name taken from its
 * content, so whichever host dispatch picks has it under the name the prompt uses, even where
 * a host already holds another file of the same name (ComfyUI would rename the upload there).
 */

let h: FleetHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function png(path: string, shade: number): string {
  writeFileSync(path, encodePng(8, 8, new Uint8Array(8 * 8 * 3).fill(shade)));
  return path;
}

it('img2img on two hosts: the image is on both under one content name, and either host runs the job', async () => {
  h = await startFleetHarness([{}, {}]);
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-fleet-up-'));
  const image = png(join(dir, 'fox.png'), 200);
  // gpu-2 already holds a different fox.png in comfywire/: a plain upload would be renamed there.
  const clash = new FormData();
  clash.append('image', new Blob([readFileSync(png(join(dir, 'other.png'), 10))]), 'fox.png');
  clash.append('subfolder', 'comfywire');
  await fetch(`${h.sims[1]!.url}/upload/image`, { method: 'POST', body: clash });

  // Prepared (uploaded) twice: the same content name both times, no renamed copy.
  const names = [];
  let prompt;
  for (let i = 0; i < 2; i++) {
    const prepared = await prepareGeneration(h.fleet, { workflow: 'sd15-img2img', prompt: 'a fox', input_image: image, steps: 2 } as GenerateRequest);
    const loadImage = Object.values(prepared.prompt).find((n) => n.class_type === 'LoadImage')!;
    names.push(loadImage.inputs['image']);
    prompt = prepared.prompt;
  }
  expect(names[0]).toMatch(/^comfywire\/[0-9a-f]{12}-fox\.png$/);
  expect(names[1]).toBe(names[0]);
  // Whichever host runs it finds the image: each pinned in turn.
  const runs = await Promise.all(['gpu-1', 'gpu-2'].map((host) => h!.fleet.submit(prompt!, { workflow: 'sd15-img2img', host })));
  const ends = await Promise.all(runs.map((j) => j.done));
  expect(ends.map((s) => [s.status, s.host])).toEqual([['success', 'gpu-1'], ['success', 'gpu-2']]);
  // Each host holds the same bytes under the content name, and gpu-2's own fox.png is untouched.
  for (const sim of h.sims) {
    const files = readdirSync(join(sim.dataDir, 'input', 'comfywire'));
    const named = files.filter((f) => /^[0-9a-f]{12}-fox\.png$/.test(f));
    expect(named).toHaveLength(1);
    expect(readFileSync(join(sim.dataDir, 'input', 'comfywire', named[0]!)).equals(readFileSync(image))).toBe(true);
  }
  expect(readFileSync(join(h.sims[1]!.dataDir, 'input', 'comfywire', 'fox.png')).equals(readFileSync(join(dir, 'other.png')))).toBe(true);
});
