import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type ServerOptions, type WebSocket as ServerSocket } from 'ws';
import { filter, firstValueFrom, timeout, toArray, take } from 'rxjs';
import { EventEmitter } from 'node:events';
import { ComfyConnection, type ConnectionOptions } from '../../streams/connection.js';
import type { ComfyEvent } from '../../streams/messages.js';
import { FEATURE_FLAGS_MESSAGE, defaultWebSocketFactory } from '../../streams/socket-session.js';
import { silentLogger } from '../../src/logger.js';
import { deadline, whenTrue } from '../helpers/wait.js';

/*
 * The connection with its default `ws` factory against a real WebSocket server on loopback,
 * port 0: what a mock cannot show (upgrade headers, frame size limits, TCP-level drops, pings).
 */

interface Peer {
  socket: ServerSocket;
  request: IncomingMessage;
  messages: string[];
  pings: number;
}

interface TestServer {
  port: number;
  peers: Peer[];
  /** Resolves with the n-th connection (0-based) once it exists. */
  peer(n: number): Promise<Peer>;
  close(): Promise<void>;
}

async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const peers: Peer[] = [];
  const waiting: Array<() => void> = [];
  wss.on('connection', (socket, request) => {
    const peer: Peer = { socket, request, messages: [], pings: 0 };
    socket.on('message', (data, isBinary) => peer.messages.push(isBinary ? '<binary>' : data.toString()));
    socket.on('ping', () => (peer.pings += 1));
    peers.push(peer);
    waiting.splice(0).forEach((wake) => wake());
  });
  return {
    port: (wss.address() as AddressInfo).port,
    peers,
    peer: (n) =>
      new Promise<Peer>((resolve) => {
        const check = () => (peers[n] ? resolve(peers[n]) : waiting.push(check));
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<ConnectionOptions> = {}): Promise<{ server: TestServer; conn: ComfyConnection }> {
  const server = await startServer();
  cleanups.push(() => server.close());
  const conn = new ComfyConnection({
    baseUrl: `http://127.0.0.1:${server.port}`,
    clientId: 'it-client',
    logger: silentLogger(),
    backoff: { initialDelayMs: 20, factor: 2, maxDelayMs: 200, jitter: 'none' },
    ...options,
  });
  cleanups.push(() => conn.close());
  return { server, conn };
}

/** A wait bounded by the shared helper: it fails naming what never happened. */
const until = <T>(promise: Promise<T>, ms = 5_000, what = 'event'): Promise<T> => deadline(promise, ms, what);
const waitOpen = (conn: ComfyConnection) => firstValueFrom(conn.state$.pipe(filter((s) => s === 'open'), timeout(5_000)));

describe('ComfyConnection over a real ws server', () => {
  it('passes auth headers to the upgrade, keeps the path prefix, and sends feature_flags first', async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    const conn = new ComfyConnection({
      baseUrl: `http://127.0.0.1:${server.port}/comfy/`,
      clientId: 'it-client',
      headers: { Authorization: 'Bearer s3cret', 'X-Proxy-Key': 'k1' },
      logger: silentLogger(),
    });
    cleanups.push(() => conn.close());
    conn.start();
    const peer = await until(server.peer(0), 5_000, 'first connection');
    expect(peer.request.url).toBe('/comfy/ws?clientId=it-client');
    expect(peer.request.headers['authorization']).toBe('Bearer s3cret');
    expect(peer.request.headers['x-proxy-key']).toBe('k1');
    await waitOpen(conn);
    await whenTrue(peer.socket, 'message', () => peer.messages.length > 0, 5_000, 'first client message');
    expect(peer.messages[0]).toBe(FEATURE_FLAGS_MESSAGE);
  });

  it('accepts frames far above 1 MiB, text and binary', async () => {
    const { server, conn } = await setup();
    const received = firstValueFrom(conn.events$.pipe(take(2), toArray(), timeout(10_000)));
    conn.start();
    const peer = await until(server.peer(0), 5_000, 'first connection');
    await waitOpen(conn);
    const bigText = 'x'.repeat(3 * 1024 * 1024);
    peer.socket.send(JSON.stringify({ type: 'executed', data: { node: '9', prompt_id: 'p1', output: { text: [bigText] } } }));
    const image = Buffer.alloc(2 * 1024 * 1024, 0xab);
    const header = Buffer.alloc(8);
    header.writeUInt32BE(1, 0); // PREVIEW_IMAGE
    header.writeUInt32BE(2, 4); // PNG
    peer.socket.send(Buffer.concat([header, image]));
    const [executed, preview] = (await received) as [ComfyEvent, ComfyEvent];
    expect(executed.type === 'executed' && (executed.data.output?.['text']?.[0] as string).length).toBe(bigText.length);
    expect(preview.type === 'preview' && preview.data.image.byteLength).toBe(image.length);
    expect(preview).toMatchObject({ type: 'preview', data: { mimeType: 'image/png' } });
  });

  it('reconnects with the same clientId after the server terminates the socket', async () => {
    const { server, conn } = await setup();
    const reconnected = firstValueFrom(conn.reconnected$.pipe(timeout(5_000)));
    conn.start();
    const first = await until(server.peer(0), 5_000, 'first connection');
    await waitOpen(conn);
    first.socket.terminate();
    const second = await until(server.peer(1), 5_000, 'second connection');
    expect(second.request.url).toBe(first.request.url);
    expect(second.request.url).toBe('/ws?clientId=it-client');
    expect(await reconnected).toBe(1);
    await waitOpen(conn);
    await whenTrue(second.socket, 'message', () => second.messages.length > 0, 5_000, 'first client message after reconnect');
    expect(second.messages[0]).toBe(FEATURE_FLAGS_MESSAGE);
  });

  it('keeps an idle but answering socket open with pings', async () => {
    // Pings every 60 ms against a 600 ms stall: only a process frozen for over half a second could
    // miss a pong. Waiting for pings that span well over the stall timeout, rather than a fixed
    // time, is what shows the pongs (not luck) kept the socket.
    const { server, conn } = await setup({ stallTimeoutMs: 600, pingIntervalMs: 60 });
    conn.start();
    const peer = await until(server.peer(0), 5_000, 'first connection');
    await waitOpen(conn);
    await whenTrue(peer.socket, 'ping', () => peer.pings >= 15, 5_000, '15 pings');
    expect(server.peers).toHaveLength(1);
    expect(conn.state).toBe('open');
  });

  it('detects a server that stops answering (no pongs) and reconnects', async () => {
    const { server, conn } = await setup({ stallTimeoutMs: 300, pingIntervalMs: 80 });
    // Measured from before the socket opened: its open counts as a sign of life, so no stall can
    // be declared within 300 ms of this, however late the pause below runs on a busy machine.
    const startedAt = Date.now();
    conn.start();
    const first = await until(server.peer(0), 5_000, 'first connection');
    await waitOpen(conn);
    // Stop reading on the server side: pings pile up unanswered, as with a wedged proxy.
    ((first.socket as unknown as { _socket: Socket })._socket).pause();
    const second = await until(server.peer(1), 3_000, 'reconnection after the stall');
    // (A timer may fire a millisecond early by the wall clock.)
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(298);
    expect(second.request.url).toBe(first.request.url);
    await waitOpen(conn);
  });

  it('keeps retrying an upgrade a proxy refuses with 401, and says to check the credentials', async () => {
    const server = await startServer({ verifyClient: (_info, done) => done(false, 401) });
    cleanups.push(() => server.close());
    const logger = silentLogger();
    const warned = new EventEmitter();
    const warn = jest.spyOn(logger, 'warn').mockImplementation(((..._args: unknown[]) => {
      warned.emit('warn');
      return logger;
    }) as unknown as typeof logger.warn);
    const conn = new ComfyConnection({
      baseUrl: `http://127.0.0.1:${server.port}`,
      clientId: 'it-client',
      logger,
      backoff: { initialDelayMs: 20, factor: 2, maxDelayMs: 200, jitter: 'none' },
    });
    cleanups.push(() => conn.close());
    conn.start();
    await whenTrue(warned, 'warn', () => warn.mock.calls.length >= 2, 5_000, 'two warnings');
    expect(conn.state).toBe('reconnecting');
    expect(String(warn.mock.calls[0]![0])).toMatch(/401.*COMFYUI_AUTH/);
  });

  it('close() completes events$ and the server sees a normal closure', async () => {
    let dials = 0;
    const { server, conn } = await setup({
      webSocketFactory: (url, headers) => {
        dials += 1;
        return defaultWebSocketFactory(url, headers);
      },
    });
    const done = firstValueFrom(conn.events$.pipe(toArray()));
    conn.start();
    const peer = await until(server.peer(0), 5_000, 'first connection');
    await waitOpen(conn);
    const closed = new Promise<number>((resolve) => peer.socket.once('close', (code) => resolve(code)));
    await until(conn.close(), 5_000, 'close()');
    expect(await until(closed, 5_000, 'server-side close')).toBe(1000);
    await until(done, 5_000, 'events$ completing');
    expect(conn.state).toBe('closed');
    // No reconnect: a retry would dial from a 20 ms backoff timer set before close() resolved.
    // Node fires timers in order of expiry, so once this later and longer one has fired, any
    // such dial has happened, however busy the machine (the factory runs in the timer callback).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(dials).toBe(1);
    expect(server.peers).toHaveLength(1);
  });
});
