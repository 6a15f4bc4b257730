import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { previewEncoderState } from '../../src/mcp/inline-image.js';
import { warmPreviewsOnceConnected } from '../../src/mcp/preview-warmup.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { until } from '../helpers/wait.js';

/**
 * The inline previews' encoder (sharp: libvips loaded, its codecs run once) costs ~100 ms the first
 * time and holds the event loop meanwhile. The server warms it once the engine hears from ComfyUI,
 * without any tool call, and not before: not on start-up. (This file's own module registry:
 * nothing else in it loads sharp.)
 */

let sim: Simulator;
let dir: string;
let engine: Engine;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, stepDelayMs: 0 });
  dir = mkdtempSync(join(tmpdir(), 'comfywire-warmup-'));
  const config = loadConfig({}, { envFile: join(dir, 'none.env'), overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: dir, COMFYWIRE_FEED: 'off' } });
  engine = new Engine({ config, logger: silentLogger() });
});
afterAll(async () => {
  await engine.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the encoder stays cold until the engine is connected, then warms with no call made', async () => {
  const warming = warmPreviewsOnceConnected(engine);
  // Nothing has come from ComfyUI yet (the engine is not even started): start-up pays nothing.
  await new Promise((r) => setImmediate(r));
  expect(previewEncoderState()).toBe('cold');
  engine.start();
  await engine.waitUntilOpen();
  await until(() => previewEncoderState() === 'warm');
  // Once per process: the subscription ended with the first frame.
  expect(warming.closed).toBe(true);
});
