import { Command, InvalidArgumentError } from 'commander';
import type { Runtime } from '../runtime.js';
import { handleError } from '../handle-error.js';
import { OUTPUT_HELP, nonEmptyFolder, outputOverride } from './output-option.js';

/**
 * `comfywire serve` (also the default command): the MCP server. On stdio the protocol owns
 * stdout, so every word for a person goes to stderr. `--http` serves Streamable HTTP on
 * loopback instead, behind a bearer token.
 */
interface ServeOptions {
  http?: boolean;
  port?: number;
  host?: string;
  simulate?: boolean;
  output?: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the MCP server (stdio by default, --http for Streamable HTTP)')
    .option('--http', 'serve Streamable HTTP instead of stdio')
    .option('--port <n>', 'HTTP port (default COMFYWIRE_HTTP_PORT or 8765)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be 0..65535');
      return n;
    })
    .option('--host <addr>', 'HTTP bind address (default COMFYWIRE_HTTP_HOST or 127.0.0.1)')
    .option('--simulate', 'drive the embedded simulator instead of a real ComfyUI')
    .option('-o, --output <dir>', OUTPUT_HELP, nonEmptyFolder)
    .action(async (opts: ServeOptions) => {
      try {
        await runServe(opts);
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}

async function runServe(opts: ServeOptions): Promise<void> {
  if (!opts.http) {
    // stdio: what MCP clients launch and wait on; see serve-stdio.ts for the order of start-up.
    const { serveStdio } = await import('../serve-stdio.js');
    return serveStdio({ simulate: opts.simulate === true, overrides: outputOverride(opts.output) });
  }
  const { createRuntime } = await import('../runtime.js');
  const { publishFeed } = await import('../../feed/feed-server.js');
  const runtime: Runtime = await createRuntime({ simulate: opts.simulate === true, overrides: outputOverride(opts.output) });
  const { engine, config, logger, calls } = runtime;
  // The rate limits of this process, shared by every HTTP session.
  const { CallAdmission } = await import('../../mcp/rate-limit.js');
  const deps = { engine, config, logger, calls, admission: new CallAdmission(config.limits) };
  // Connect in the background: the server answers tools/list at once, and tools that need
  // ComfyUI report it unreachable with a hint if it is not there.
  engine.start();
  // Sharp (the inline previews) loads once the socket is up, in the background: see preview-warmup.ts.
  (await import('../../mcp/preview-warmup.js')).warmPreviewsOnceConnected(engine);
  const feed = await publishFeed(engine, logger, 'serve --http');
  const { startHttpServer } = await import('../../mcp/http/index.js');
  const http = await startHttpServer({
    deps,
    host: opts.host ?? config.http.host,
    port: opts.port ?? config.http.port,
    ...(config.http.token ? { token: config.http.token } : {}),
  }).catch(async (err: unknown) => {
    // Refused bind (non-loopback without token, port taken): release the socket and the feed so
    // the process exits with the error instead of lingering on ComfyUI retries.
    await feed?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw err;
  });
  process.stderr.write(`comfywire MCP server on ${http.url} (ComfyUI: ${config.comfyUrl})\n`);
  if (!config.http.token) process.stderr.write(`bearer token (shown once; set COMFYWIRE_HTTP_TOKEN to fix it): ${http.token}\n`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await http.close().catch(() => undefined);
    await feed?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}
