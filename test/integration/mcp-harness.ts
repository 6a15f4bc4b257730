import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createCallLog, type CallLog, type CallLogOptions } from '../../src/call-log/call-log.js';
import { loadConfig, type Config } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import { createServer, type McpDeps } from '../../src/mcp/server.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';

/**
 * A real SDK client joined in memory to the server, backed by a real engine pointed at the
 * simulator on a free loopback port: the whole path but the stdio framing.
 */

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Harness {
  client: Client;
  sim: Simulator;
  engine: Engine;
  config: Readonly<Config>;
  outputDir: string;
  /** The call log's file (a temp file unless the options say otherwise), and the log itself. */
  callLogFile: string | undefined;
  calls: CallLog | undefined;
  call(name: string, args?: Record<string, unknown>, options?: Parameters<Client['callTool']>[2]): Promise<CallToolResult>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  stepDelayMs?: number;
  env?: Record<string, string>;
  deps?: Partial<McpDeps>;
  /** Point the engine at a dead port instead of the simulator. */
  comfyDown?: boolean;
  /**
   * Share another harness's simulator and output folder: a second comfywire process (its own
   * engine and server) on the same ComfyUI and disk. The owner closes them, not this harness.
   */
  shareWith?: Pick<Harness, 'sim' | 'outputDir'>;
  /**
   * The call log: by default a private temp file (never the user's state folder); false for none;
   * or options (a database URL, sink tuning), the file then still in the temp folder.
   */
  callLog?: false | Partial<Omit<CallLogOptions, 'logger'>>;
  /** Host shape and settings of the simulator this harness starts (custom node packs, its ffmpeg). */
  simulator?: Partial<SimulatorOptions>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const shared = options.shareWith;
  const sim = shared?.sim ?? (await startSimulator({ port: 0, stepDelayMs: options.stepDelayMs ?? 20, ...options.simulator }));
  const outputDir = shared?.outputDir ?? mkdtempSync(path.join(tmpdir(), 'comfywire-mcp-'));
  const config = loadConfig(
    {},
    {
      envFile: path.join(outputDir, 'no.env'),
      overrides: {
        COMFYUI_URL: options.comfyDown ? 'http://127.0.0.1:9' : sim.url,
        COMFYWIRE_OUTPUT_DIR: outputDir,
        COMFYWIRE_WORKFLOWS_DIR: path.join(REPO, 'workflows'),
        COMFYWIRE_REQUEST_TIMEOUT_MS: options.comfyDown ? '1500' : '10000',
        // Tests make many calls in one server: the rate limits and the job cap are off unless a
        // test sets them (mcp-rate-limit.test.ts, mcp-job-cap.test.ts; the stdio e2e runs the defaults).
        COMFYWIRE_GENERATE_RATE_PER_MIN: '0',
        COMFYWIRE_READ_RATE_PER_MIN: '0',
        COMFYWIRE_MAX_ACTIVE_JOBS: '0',
        ...options.env,
      },
    },
  );
  const logger = silentLogger();
  const engine = new Engine({ config, logger });
  if (!options.comfyDown) engine.start();
  const logDir = options.callLog === false ? undefined : mkdtempSync(path.join(tmpdir(), 'comfywire-calls-'));
  const callLogFile = logDir ? path.join(logDir, 'calls.jsonl') : undefined;
  const calls =
    logDir && callLogFile
      ? createCallLog({ file: { file: callLogFile, maxBytes: 10 * 1024 * 1024, maxFiles: 2 }, lossFile: path.join(logDir, 'lost.json'), logger: options.deps?.logger ?? logger, ...(options.callLog || {}) })
      : undefined;
  const { server, cleanup } = createServer({ engine, config, logger, cwd: outputDir, calls, ...options.deps });
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    client,
    sim,
    engine,
    config,
    outputDir,
    callLogFile,
    calls,
    call: async (name, args = {}, opts) => (await client.callTool({ name, arguments: args }, undefined, opts)) as CallToolResult,
    close: async () => {
      await client.close();
      await cleanup();
      await server.close();
      await engine.close();
      await calls?.close();
      if (logDir) rmSync(logDir, { recursive: true, force: true });
      if (shared) return;
      await sim.close();
      rmSync(outputDir, { recursive: true, force: true });
    },
  };
}

export function textOf(result: CallToolResult): string {
  return result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}
