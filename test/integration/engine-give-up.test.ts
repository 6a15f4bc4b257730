import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { startSimulator } from '../../src/simulator/index.js';
import { slowPrompt } from '../helpers/prompts.js';
import { within } from '../helpers/wait.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';

/**
 * An engine whose socket gives up (a finite reconnect policy, ComfyUI gone for good): the job in
 * flight ends as lost with the reason, nothing crashes on the stream's error (an unhandled RxJS
 * error would end the process), and a later submission is refused with the reason.
 */

test('ComfyUI gone for good: the job ends lost, the engine stays up and refuses new work clearly', async () => {
  const sim = await startSimulator({ port: 0, stepDelayMs: 20 });
  const outputDir = mkdtempSync(join(tmpdir(), 'comfywire-give-up-'));
  const config = loadConfig({}, {
    overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS_DIR, COMFYWIRE_FEED: 'off', COMFYWIRE_REQUEST_TIMEOUT_MS: '2000' },
  });
  const engine = new Engine({ config, logger: silentLogger(), backoff: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20, jitter: 'none' } }).start();
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    const job = await engine.submit(slowPrompt(500));
    await sim.close(); // sockets dropped, nothing listens any more: every reconnect fails
    const final = await within(job.done, 10_000);
    expect(final).toMatchObject({ status: 'lost', lostReason: expect.stringMatching(/gave up after \d+ failed attempts/) });
    await new Promise((r) => setTimeout(r, 50)); // RxJS reports unhandled errors on a timer
    expect(uncaught).toEqual([]);
    expect(engine.connection.state).toBe('closed');
    await expect(engine.submit(slowPrompt(1))).rejects.toThrow(/not reachable/);
  } finally {
    process.off('uncaughtException', onUncaught);
    await engine.close();
    rmSync(outputDir, { recursive: true, force: true });
  }
});
