import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { startHttpServer, type HttpServerHandle } from '../../src/mcp/http/index.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { MB, settledMemory } from '../helpers/heap.js';
import { stressCount, stressLabel } from '../helpers/stress.js';
import { REPO } from './mcp-harness.js';

/**
 * Streamable HTTP under load (issue 10): many sessions open at once on one engine, each calling
 * generate_image with a progress token. Every session gets its own job's outputs (its seed, its
 * prompt_id, its file), no notification of another session's job reaches it, and once every
 * session is closed (DELETE) the process is back where it was: no session left, the engine's
 * counts (subscribers, routes, jobs) as before, the heap within a bound that a few leaked
 * sessions would pass. A first round of as many sessions warms up.
 */

const SESSIONS = stressCount(50, 100);
const RECENT_CAP = 20;
/**
 * Measured: the first round of 100 sessions leaves +3.5 MB (pools, buffers and code sized for that
 * load), the second +1.1 MB more, the third +0.15 MB: so a full round warms up, and the bound is
 * what 13 leaked sessions (~155 KB of server each, more with their jobs) would pass.
 */
const HEAP_TOLERANCE = 2 * MB;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

let sim: Simulator;
let engine: Engine;
let http: HttpServerHandle;
let outputDir: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, stepDelayMs: 0 });
  outputDir = mkdtempSync(path.join(tmpdir(), 'comfywire-http-load-'));
  const config = loadConfig({}, {
    envFile: path.join(outputDir, 'no.env'),
    overrides: {
      COMFYUI_URL: sim.url,
      COMFYWIRE_OUTPUT_DIR: outputDir,
      COMFYWIRE_WORKFLOWS_DIR: path.join(REPO, 'workflows'),
      COMFYWIRE_FEED: 'off',
      // The point is many sessions at once: the session cap, the job cap and the rate limits are raised or off.
      COMFYWIRE_HTTP_MAX_SESSIONS: String(SESSIONS + 10),
      COMFYWIRE_MAX_ACTIVE_JOBS: '0',
      COMFYWIRE_GENERATE_RATE_PER_MIN: '0',
      COMFYWIRE_READ_RATE_PER_MIN: '0',
      COMFYWIRE_RECENT_JOBS: String(RECENT_CAP),
    },
  });
  const logger = silentLogger();
  engine = new Engine({ config, logger }).start();
  http = await startHttpServer({ deps: { engine, config, logger, cwd: outputDir }, port: 0 });
});

afterAll(async () => {
  await http.close();
  await engine.close();
  await sim.close();
  rmSync(outputDir, { recursive: true, force: true });
});

/** The simulator keeps ComfyUI's history in this process: cleared before each reading, as POST /history {"clear": true} does. */
async function clearComfyHistory(): Promise<void> {
  const res = await fetch(`${sim.url}/history`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"clear":true}' });
  await res.text();
  expect(res.status).toBe(200);
}

interface Session {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Every notification this session received, as JSON. */
  heard: string[];
}

async function open(): Promise<Session> {
  const transport = new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { authorization: `Bearer ${http.token}` } } });
  const client = new Client({ name: 'load', version: '1.0.0' });
  const heard: string[] = [];
  client.fallbackNotificationHandler = async (n) => void heard.push(JSON.stringify(n));
  await client.connect(transport);
  return { client, transport, heard };
}

async function close(s: Session): Promise<void> {
  await s.transport.terminateSession();
  await s.client.close();
}

interface Generated {
  prompt_id: string;
  status: string;
  seed?: number;
  files: Array<{ path: string }>;
}

/** One generate_image per session, all at once; each answer checked against its own request. */
async function generateInEvery(sessions: Session[], seedBase: number): Promise<Generated[]> {
  const results = await Promise.all(
    sessions.map(async (s, i) => {
      const progress: string[] = [];
      const r = (await s.client.callTool(
        { name: 'generate_image', arguments: { prompt: `load ${seedBase + i}`, seed: seedBase + i, width: 64, height: 64, timeout_s: 600 } },
        undefined,
        { timeout: 600_000, onprogress: (p) => void progress.push(JSON.stringify(p)) },
      )) as CallToolResult;
      expect(r.isError).toBeFalsy();
      const out = r.structuredContent as unknown as Generated;
      expect(out).toMatchObject({ status: 'success', seed: seedBase + i });
      expect(out.files).toHaveLength(1);
      expect(out.files[0]!.path).toContain(out.prompt_id);
      // Whatever this session heard names no job but its own.
      for (const text of [...s.heard, ...progress]) for (const id of text.match(UUID) ?? []) expect(id).toBe(out.prompt_id);
      return out;
    }),
  );
  expect(new Set(results.map((r) => r.prompt_id)).size).toBe(sessions.length);
  expect(new Set(results.map((r) => r.files[0]!.path)).size).toBe(sessions.length);
  return results;
}

it(`${SESSIONS} Streamable HTTP sessions generating at once (${stressLabel()}): each its own outputs and notifications; closed, memory and counts back to baseline`, async () => {
  // Warm-up: code loaded, caches and pools sized for the load, the recent-jobs store at its cap.
  const warm = await Promise.all(Array.from({ length: SESSIONS }, open));
  await generateInEvery(warm, 1);
  await Promise.all(warm.map(close));
  warm.length = 0; // the clients live in this process too: the test lets go of them before measuring
  expect(http.openSessions()).toBe(0);
  await clearComfyHistory();
  const baseCounts = engine.counts();
  const base = await settledMemory();

  const sessions = await Promise.all(Array.from({ length: SESSIONS }, open));
  expect(http.openSessions()).toBe(SESSIONS);
  await generateInEvery(sessions, 1_000);
  await Promise.all(sessions.map(close));
  sessions.length = 0;

  expect(http.openSessions()).toBe(0);
  await clearComfyHistory();
  expect(engine.counts()).toEqual({ ...baseCounts, httpConnections: engine.counts().httpConnections });
  const after = await settledMemory();
  process.stderr.write(`http-load: heap ${((after.heap - base.heap) / MB).toFixed(2)} MB after ${SESSIONS} sessions closed\n`);
  expect(after.heap - base.heap).toBeLessThanOrEqual(HEAP_TOLERANCE);
}, 300_000);
