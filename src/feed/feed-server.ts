import { createServer, type Server, type Socket } from 'node:net';
import { map, type Observable } from 'rxjs';
import type { ComfyEngine } from '../engine-api.js';
import type { ComfyEvent } from '../../streams/messages.js';
import type { Logger } from '../logger.js';
import { nodeIdOf, promptIdOf } from '../../streams/messages.js';
import { ensureFeedDir, feedAddress, register, unregister } from './feed-address.js';
import { serializeEvent, type FeedLine } from './feed-line.js';
import { redactorFor } from '../redact.js';
import { own } from '../input-policy/index.js';

/** Beyond this many unsent bytes a slow reader is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** An engine over several hosts (a Fleet) says which host sent each event. */
type HostEvents = { hostEvents$: Observable<{ host: string; event: ComfyEvent }> };

/** Every event with its host's name when there are several; a plain Engine's events without one. */
function eventsOf(engine: ComfyEngine): Observable<{ host?: string; event: ComfyEvent }> {
  if (engine.hostList().length > 1 && 'hostEvents$' in engine) return (engine as ComfyEngine & HostEvents).hostEvents$;
  return engine.events$.pipe(map((event) => ({ event })));
}

/**
 * Publishes the engine's live events on a local socket for `comfywire tail --attach`. Local only
 * (a Unix socket in a per-user 0700 folder, or a named pipe), never a TCP port.
 */
export async function startFeed(engine: ComfyEngine, logger: Logger, command: string): Promise<{ close(): Promise<void> }> {
  const address = feedAddress();
  // Lines and the registration file are read by other processes (and printed by `tail`).
  const redact = redactorFor(engine.config);
  const comfyUrl = redact(engine.config.comfyUrl);
  unregister();
  ensureFeedDir();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write(`${JSON.stringify({ hello: { pid: process.pid, comfyUrl, clientId: engine.config.clientId } })}\n`);
  });
  const subscription = eventsOf(engine).subscribe({
    // The connection gave up and logged why; the feed simply has nothing more to carry.
    error: () => undefined,
    next: ({ host, event }) => {
      if (sockets.size === 0) return;
      const promptId = promptIdOf(event);
      const line: FeedLine = { t: Date.now(), event: serializeEvent(event) };
      if (host !== undefined) line.host = host;
      const nodeId = nodeIdOf(event);
      const job = promptId ? engine.job(promptId) : undefined;
      const known = nodeId && job ? own(job.ctx.nodes, nodeId) : undefined;
      if (known) line.node = known.title ? { classType: known.classType, title: known.title } : { classType: known.classType };
      const text = `${redact(JSON.stringify(line))}\n`;
      for (const socket of sockets) {
        if (socket.writableLength > MAX_BUFFERED_BYTES) socket.destroy();
        else socket.write(text);
      }
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => resolve());
  });
  register({
    pid: process.pid,
    address,
    comfyUrl,
    clientId: engine.config.clientId,
    startedAt: Date.now(),
    command,
  });
  logger.debug(`event feed for \`comfywire tail --attach\` at ${address}`);
  return {
    async close() {
      subscription.unsubscribe();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      unregister();
    },
  };
}

/**
 * The feed of a process that runs jobs (serve, generate), when COMFYWIRE_FEED is on. The feed is
 * for watching; a process is useful without it, so a failure to publish is a warning.
 */
export async function publishFeed(engine: ComfyEngine, logger: Logger, command: string): Promise<{ close(): Promise<void> } | undefined> {
  if (!engine.config.feed) return undefined;
  return startFeed(engine, logger, command).catch((err: unknown) => {
    logger.warn(`no event feed for \`comfywire tail --attach\`: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  });
}
