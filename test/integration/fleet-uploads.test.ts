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

it('img2img on two hosts: the image is on both under one content name, and the job runs on either', async () => {
  h = await startFleetHarness([{}, {}]);
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-fleet-up-'));
  const image = png(join(dir, 'fox.png'), 200);
  // gpu-2 already holds a different fox.png in comfywire/: a plain upload would be renamed there.
  const clash = new FormData();
  clash.append('image', new Blob([readFileSync(png(join(dir, 'other.png'), 10))]), 'fox.png');
  clash.append('subfolder', 'comfywire');
  await fetch(`${h.sims[1]!.url}/upload/image`, { method: 'POST', body: clash });

  const runs = [];
  for (let i = 0; i < 4; i++) {
    const prepared = await prepareGeneration(h.fleet, { workflow: 'sd15-img2img', prompt: 'a fox', input_image: image, steps: 2 } as GenerateRequest);
    const loadImage = Object.values(prepared.prompt).find((n) => n.class_type === 'LoadImage')!;
    expect(loadImage.inputs['image']).toMatch(/^comfywire\/[0-9a-f]{12}-fox\.png$/);
    runs.push(await h.fleet.submit(prepared.prompt, { workflow: prepared.templateName }));
  }
  const ends = await Promise.all(runs.map((j) => j.done));
  expect(ends.map((s) => s.status)).toEqual(['success', 'success', 'success', 'success']);
  expect(new Set(ends.map((s) => s.host))).toEqual(new Set(['gpu-1', 'gpu-2']));
  // Each host holds the same bytes under the content name, and gpu-2's own fox.png is untouched.
  for (const sim of h.sims) {
    const files = readdirSync(join(sim.dataDir, 'input', 'comfywire'));
    const named = files.filter((f) => /^[0-9a-f]{12}-fox\.png$/.test(f));
    expect(named).toHaveLength(1);
    expect(readFileSync(join(sim.dataDir, 'input', 'comfywire', named[0]!)).equals(readFileSync(image))).toBe(true);
  }
  expect(readFileSync(join(h.sims[1]!.dataDir, 'input', 'comfywire', 'fox.png')).equals(readFileSync(join(dir, 'other.png')))).toBe(true);
});
