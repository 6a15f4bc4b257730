import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { from, switchMap } from 'rxjs';
import { DeferredCallLog } from '../call-log/deferred-call-log.js';
import type { ComfyEngine } from '../engine-api.js';
import { lateBound } from '../late-bound.js';
import { CallAdmission } from '../mcp/rate-limit.js';
import { createServer } from '../mcp/server.js';
import { gateUntilReady } from '../mcp/startup-gate.js';
import { handleError } from './handle-error.js';
import type { Runtime } from './runtime.js';
import { createRuntimeBase } from './runtime-base.js';

/**
 * `comfywire serve` on stdio, in the order a client needs it:
 *   1. configuration, logger, the MCP server and its registrations, the transport: enough to answer
 *      initialize and tools/list, which is all a client waits for at launch;
 *   2. the runtime (engine and its socket, call log, event feed, with their modules), started by
 *      the start-up gate (src/mcp/startup-gate.ts) once tools/list is answered, or as soon as a
 *      message needs it, or RUNTIME_START_IDLE_MS after launch. Until it is up the gate holds
 *      every other message, so a tool never runs without its engine.
 * Loading the runtime after the answer rather than beside it keeps its module loading (the
 * largest part of start-up) from delaying an answer the client is waiting on.
 * With --simulate the runtime comes first: the simulator's address is part of the configuration
 * the server is built from.
 */
export async function serveStdio(options: { simulate: boolean; overrides: Record<string, string | undefined> }): Promise<void> {
  const base = createRuntimeBase({ overrides: options.overrides });
  const { logger } = base;
  const loadRuntime = () => import('./runtime.js').then(({ createRuntime }) => createRuntime({ simulate: options.simulate, overrides: options.overrides, base }));
  const early: Runtime | undefined = options.simulate ? await loadRuntime() : undefined;
  const config = early?.config ?? base.config;

  let made: (engine: ComfyEngine) => void = () => undefined;
  const engineMade = new Promise<ComfyEngine>((resolve) => (made = resolve));
  // The resources' list watch subscribes to the events at registration: it gets them once the engine is made.
  const engine = lateBound<ComfyEngine>('the engine', { events$: from(engineMade).pipe(switchMap((e) => e.events$)) });
  const calls = config.callLog || config.databaseUrl ? new DeferredCallLog() : undefined;
  const { server, cleanup } = createServer({ engine: engine.value, config, logger, calls, admission: new CallAdmission(config.limits) });
  const transport = new StdioServerTransport();

  let started: Promise<{ runtime: Runtime; feed: { close(): Promise<void> } | undefined }> | undefined;
  const startRuntime = async (reason: string) => {
    const [runtime, { publishFeed }, { warmPreviewsOnceConnected }] = await Promise.all([
      early ?? loadRuntime(),
      import('../feed/feed-server.js'),
      import('../mcp/preview-warmup.js'),
    ]);
    logger.debug(`runtime started (${reason})`);
    engine.bind(runtime.engine);
    made(runtime.engine);
    calls?.bind(runtime.calls);
    // Connect in the background: tools that need ComfyUI report it unreachable with a hint if it is not there.
    runtime.engine.start();
    // Sharp (the inline previews) loads once the socket is up, in the background: see preview-warmup.ts.
    warmPreviewsOnceConnected(runtime.engine);
    const feed = await publishFeed(runtime.engine, logger, 'serve');
    gate.open();
    return { runtime, feed };
  };
  const gate = gateUntilReady(transport, (reason) => {
    started = startRuntime(reason);
    // The process cannot serve without its runtime (e.g. the call log's folder is refused): say why and go.
    started.catch((err: unknown) => {
      process.exit(handleError(err));
    });
  });

  await server.connect(transport);
  logger.info(`comfywire MCP server on stdio (ComfyUI: ${config.comfyUrl})`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    gate.dispose();
    await cleanup().catch(() => undefined);
    await server.close().catch(() => undefined);
    const up = await started?.catch(() => undefined);
    await up?.feed?.close().catch(() => undefined);
    await (up?.runtime ?? early)?.close().catch(() => undefined);
    process.exit(0);
  };
  // The client closing stdin is how stdio servers are told to go.
  process.stdin.once('end', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}
