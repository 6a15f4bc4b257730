import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { createServer } from '../../src/mcp/server.js';
import { KB, settledMemory } from '../helpers/heap.js';

/**
 * Streamable HTTP builds one McpServer per session, all on one engine and config. What depends on
 * nothing else (the tools' and prompts' zod schemas, ~0.7 MB when each server built its own) is
 * built once per process and shared, so an idle session costs what its own server object does.
 * The engine is never started: building a server does not talk to ComfyUI.
 */

const SERVERS = 60;
/** Measured ~130 KB a server with the schemas shared, ~790 KB when each built its own. */
const MAX_KB_PER_SERVER = 300;

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'comfywire-server-mem-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it(`${SERVERS} servers on one engine: each costs at most ${MAX_KB_PER_SERVER} KB of heap (schemas shared, not rebuilt)`, async () => {
  const config = loadConfig({}, { envFile: join(dir, 'none.env'), overrides: { COMFYUI_URL: 'http://127.0.0.1:9', COMFYWIRE_OUTPUT_DIR: dir } });
  const logger = silentLogger();
  const engine = new Engine({ config, logger });
  const servers = [createServer({ engine, config, logger })]; // the first loads code and builds what is shared
  const before = await settledMemory();
  for (let i = 0; i < SERVERS; i++) servers.push(createServer({ engine, config, logger }));
  const after = await settledMemory();
  const perServerKb = (after.heap - before.heap) / SERVERS / KB;
  expect(perServerKb).toBeLessThanOrEqual(MAX_KB_PER_SERVER);
  await Promise.all(servers.map(async ({ server, cleanup }) => {
    await cleanup();
    await server.close();
  }));
  await engine.close();
  // Not a speed check: settling the heap twice (repeated full collections) took over 30 s on a machine loaded ~6x.
}, 120_000);
