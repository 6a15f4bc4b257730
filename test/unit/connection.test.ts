import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Server, WebSocket as MockWebSocket, type Client } from 'mock-socket';
import { TestScheduler } from 'rxjs/testing';
import { ComfyConnection, type ConnectionOptions, type ConnectionState, type WebSocketLike } from '../../streams/connection.js';
import type { ComfyEvent } from '../../streams/messages.js';
import { PromptRouter } from '../../streams/prompt-router.js';
import { FEATURE_FLAGS_MESSAGE } from '../../streams/socket-session.js';
import { redactUrl, socketUrl } from '../../streams/socket-url.js';
import { SocketStalledError, keepAlive, stallWatch } from '../../streams/stall-watch.js';
import { silentLogger } from '../../src/logger.js';

/*
 * The connection against mock-socket's in-memory server. mock-socket delivers open/close after a
 * 4 ms setTimeout; jest's fake timers drive that and every RxJS timer (asyncScheduler) together.
 */

const CLIENT_ID = 'client-1';
const BACKOFF = { initialDelayMs: 1_000, factor: 2, maxDelayMs: 8_000, jitter: 'none' as const };
let nextPort = 18_000;

interface Harness {
  conn: ComfyConnection;
  server: Server;
  sockets: Client[];
  received: unknown[][];
  /** Date.now() of every socket the connection created. */
  dialed: number[];
  serverClosedAt: number[];
  events: ComfyEvent[];
  states: ConnectionState[];
  accept: { value: boolean };
}

let harness: Harness | undefined;

function setup(options: Partial<ConnectionOptions> = {}): Harness {
  const port = nextPort++;
  const accept = { value: true };
  const server = new Server(`ws://localhost:${port}/ws`, { mock: false, verifyClient: () => accept.value });
  const sockets: Client[] = [];
  const received: unknown[][] = [];
  const serverClosedAt: number[] = [];
  server.on('connection', (socket) => {
    const messages: unknown[] = [];
    sockets.push(socket);
    received.push(messages);
    socket.on('message', (message) => messages.push(message));
    socket.on('close', () => serverClosedAt.push(Date.now()));
  });
  const dialed: number[] = [];
  const conn = new ComfyConnection({
    baseUrl: `http://localhost:${port}`,
    clientId: CLIENT_ID,
    webSocketFactory: (url) => {
      dialed.push(Date.now());
      return new MockWebSocket(url) as unknown as WebSocketLike;
    },
    logger: silentLogger(),
    backoff: BACKOFF,
    stallTimeoutMs: 0,
    ...options,
  });
  const events: ComfyEvent[] = [];
  const states: ConnectionState[] = [];
  conn.events$.subscribe({ next: (e) => events.push(e), error: () => {} });
  conn.state$.subscribe((s) => states.push(s));
  harness = { conn, server, sockets, received, dialed, serverClosedAt, events, states, accept };
  return harness;
}

const tick = (ms: number) => jest.advanceTimersByTimeAsync(ms);
const send = (socket: Client | undefined, type: string, data: unknown) => socket!.send(JSON.stringify({ type, data }));
const status = (n: number) => ({ status: { exec_info: { queue_remaining: n } } });

/** A frame as an ArrayBuffer of this realm (mock-socket stringifies anything that is not one). */
function arrayBuffer(...parts: Array<Buffer | number>): ArrayBuffer {
  const bytes = Buffer.concat(parts.map((p) => (typeof p === 'number' ? u32(p) : p)));
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(async () => {
  if (harness) {
    const closing = harness.conn.close();
    await tick(5_000);
    await closing;
    harness.server.stop();
    harness = undefined;
  }
  jest.useRealTimers();
});

describe('ComfyConnection (mock-socket)', () => {
  it('connects to /ws with the fixed clientId and sends feature_flags as its first message', async () => {
    const h = setup();
    h.conn.start();
    expect(h.conn.state).toBe('connecting');
    await tick(10);
    expect(h.conn.state).toBe('open');
    expect(h.sockets[0]!.url).toBe(`ws://localhost:${nextPort - 1}/ws?clientId=${CLIENT_ID}`);
    expect(h.received[0]).toEqual([FEATURE_FLAGS_MESSAGE]);
    expect(JSON.parse(FEATURE_FLAGS_MESSAGE)).toEqual({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    expect(h.states).toEqual(['connecting', 'open']);
  });

  it('decodes text and binary frames; status feeds queueRemaining$, the flags reply serverFeatures$', async () => {
    const h = setup();
    const queue: number[] = [];
    const features: Array<Record<string, unknown>> = [];
    h.conn.queueRemaining$.subscribe((n) => queue.push(n));
    h.conn.serverFeatures$.subscribe((f) => features.push(f));
    h.conn.start();
    await tick(10);
    const socket = h.sockets[0];
    send(socket, 'status', { ...status(0), sid: CLIENT_ID });
    send(socket, 'feature_flags', { supports_preview_metadata: true, max_upload_size: 104857600 });
    socket!.send(arrayBuffer(3, 1, Buffer.from('1harness step 3/6')));
    const metadata = Buffer.from('{"node_id": "4", "prompt_id": "p1", "image_type": "image/jpeg"}');
    socket!.send(arrayBuffer(4, metadata.length, metadata, Buffer.from([0xff, 0xd8, 0xff])));
    send(socket, 'status', status(2));

    expect(h.events.map((e) => e.type)).toEqual(['status', 'feature_flags', 'progress_text', 'preview', 'status']);
    expect(h.events[2]).toEqual({ type: 'progress_text', data: { nodeId: '1', text: 'harness step 3/6' } });
    expect(h.events[3]).toMatchObject({ type: 'preview', data: { frameType: 4, promptId: 'p1', nodeId: '4', mimeType: 'image/jpeg' } });
    expect(queue).toEqual([0, 2]);
    expect(features).toEqual([{ supports_preview_metadata: true, max_upload_size: 104857600 }]);
  });

  it('drops malformed frames, passes unknown types through, and stays connected', async () => {
    const h = setup();
    h.conn.start();
    await tick(10);
    const socket = h.sockets[0]!;
    socket.send('{not json');
    socket.send('{"data":{}}');
    send(socket, 'progress', { value: 'x' });
    socket.send(arrayBuffer(99, 0));
    send(socket, 'crystools.monitor', { cpu: 3 });
    send(socket, 'status', status(1));
    await tick(100);
    expect(h.events).toEqual([
      { type: 'unknown', data: { type: 'crystools.monitor', data: { cpu: 3 } } },
      { type: 'status', data: status(1) },
    ]);
    expect(h.conn.state).toBe('open');
    expect(h.dialed).toHaveLength(1);
  });

  // The router is the one way to a prompt's events; here it reads a real connection's stream.
  it('PromptRouter on events$: only that prompt, completing after its executing {node: null}', async () => {
    const h = setup();
    const mine: ComfyEvent[] = [];
    let completed = false;
    const router = new PromptRouter(h.conn.events$);
    router.route('p1').subscribe({ next: (e) => mine.push(e), complete: () => (completed = true) });
    h.conn.start();
    await tick(10);
    const socket = h.sockets[0];
    send(socket, 'execution_start', { prompt_id: 'p1' });
    send(socket, 'execution_start', { prompt_id: 'p2' });
    send(socket, 'executing', { node: '1' }); // reconnect hint: no prompt_id, belongs to nobody
    send(socket, 'executing', { node: null, prompt_id: 'p2' });
    send(socket, 'status', status(0));
    send(socket, 'execution_success', { prompt_id: 'p1' });
    expect(completed).toBe(false);
    send(socket, 'executing', { node: null, prompt_id: 'p1' });
    send(socket, 'executing', { node: '9', prompt_id: 'p1' });
    expect(completed).toBe(true);
    expect(mine.map((e) => e.type)).toEqual(['execution_start', 'execution_success', 'executing']);
    router.close();
  });

  it('close() closes cleanly, completes every stream and never reconnects', async () => {
    const h = setup();
    let eventsDone = false;
    h.conn.events$.subscribe({ complete: () => (eventsDone = true) });
    h.conn.start();
    await tick(10);
    const closing = h.conn.close();
    await tick(10);
    await closing;
    expect(eventsDone).toBe(true);
    expect(h.conn.state).toBe('closed');
    expect(h.serverClosedAt).toHaveLength(1);
    await tick(120_000);
    expect(h.dialed).toHaveLength(1);
    expect(h.states).toEqual(['connecting', 'open', 'closed']);
    // Late subscribers still learn the state, and that it is over.
    const late: ConnectionState[] = [];
    h.conn.state$.subscribe((s) => late.push(s));
    expect(late).toEqual(['closed']);
  });

  it('close() during a backoff wait stops the retries', async () => {
    const h = setup();
    h.conn.start();
    await tick(10);
    h.sockets[0]!.close({ code: 1006, reason: 'gone', wasClean: false });
    await tick(10);
    expect(h.conn.state).toBe('reconnecting');
    const closing = h.conn.close();
    await tick(1);
    await closing;
    await tick(60_000);
    expect(h.dialed).toHaveLength(1);
    expect(h.conn.state).toBe('closed');
  });

  it('reconnects after an unclean close with growing delays, reset after success; reconnected$ counts attempts', async () => {
    const h = setup();
    const reconnects: number[] = [];
    h.conn.reconnected$.subscribe((n) => reconnects.push(n));
    h.conn.start();
    await tick(10);
    expect(reconnects).toEqual([]); // the first open is not a reconnect

    h.accept.value = false; // the server refuses for a while
    h.sockets[0]!.close({ code: 1006, reason: 'network', wasClean: false });
    await tick(5); // close delivered
    const droppedAt = Date.now();
    expect(h.conn.state).toBe('reconnecting');
    await tick(1_000 + 5 + 2_000 + 5 + 10); // attempt 1 after 1 s, refused; attempt 2 after 2 s, refused
    expect(h.dialed).toHaveLength(3);
    h.accept.value = true;
    await tick(4_000); // attempt 3 after 4 s succeeds
    expect(h.conn.state).toBe('open');
    expect(h.dialed).toHaveLength(4);
    const gaps = h.dialed.slice(1).map((t, i) => t - (i === 0 ? droppedAt : h.dialed[i]!));
    expect(gaps.map((g) => Math.round(g / 100) * 100)).toEqual([1_000, 2_000, 4_000]);
    expect(reconnects).toEqual([3]);
    // Every socket carried the same clientId.
    expect(new Set(h.sockets.map((s) => s.url)).size).toBe(1);

    // Success reset the backoff: the next drop waits the initial delay again.
    h.sockets[1]!.close({ code: 1011, reason: 'server error', wasClean: false });
    await tick(5);
    const secondDrop = Date.now();
    await tick(1_010);
    expect(h.dialed).toHaveLength(5);
    expect(Math.round((h.dialed[4]! - secondDrop) / 100) * 100).toBe(1_000);
    expect(reconnects).toEqual([3, 1]);
  });

  it('keeps retrying when the very first connect fails, and says which URL it cannot reach', async () => {
    const logger = silentLogger();
    const warn = jest.spyOn(logger, 'warn');
    const h = setup({ logger });
    const reconnects: number[] = [];
    h.conn.reconnected$.subscribe((n) => reconnects.push(n));
    h.accept.value = false;
    h.conn.start();
    await tick(10);
    expect(h.conn.state).toBe('reconnecting');
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toContain(`ws://localhost:${nextPort - 1}/ws?clientId=${CLIENT_ID}`);
    expect(message).toMatch(/Cannot connect/);
    h.accept.value = true;
    await tick(1_010);
    expect(h.conn.state).toBe('open');
    expect(h.received[0]).toEqual([FEATURE_FLAGS_MESSAGE]);
    expect(reconnects).toEqual([]); // a late first open is still not a RE-connect
  });

  it('gives up after maxAttempts: state closed and events$ errors with ComfyUnreachableError', async () => {
    const h = setup({ backoff: { ...BACKOFF, maxAttempts: 2 } });
    let failure: unknown;
    h.conn.events$.subscribe({ error: (e) => (failure = e) });
    h.accept.value = false;
    h.conn.start();
    await tick(10 + 1_010 + 2_010);
    expect(h.dialed).toHaveLength(3);
    expect(h.conn.state).toBe('closed');
    expect(failure).toMatchObject({ name: 'ComfyUnreachableError', code: 'COMFY_UNREACHABLE' });
  });

  it('treats a silent socket as stalled: closes it, waits for the close, then reconnects with the same id', async () => {
    const h = setup({ stallTimeoutMs: 5_000 });
    const reconnects: number[] = [];
    h.conn.reconnected$.subscribe((n) => reconnects.push(n));
    h.conn.start();
    await tick(10);
    await tick(4_900);
    expect(h.dialed).toHaveLength(1);
    await tick(200); // 5 s of silence since open
    expect(h.serverClosedAt).toHaveLength(1);
    await tick(1_010);
    expect(h.dialed).toHaveLength(2);
    expect(h.serverClosedAt[0]!).toBeLessThan(h.dialed[1]!); // old socket gone before the new one dials
    expect(h.sockets[1]!.url).toBe(h.sockets[0]!.url);
    expect(reconnects).toEqual([1]);
  });

  it('frames keep a socket alive: no stall while the server talks', async () => {
    const h = setup({ stallTimeoutMs: 5_000 });
    h.conn.start();
    await tick(10);
    for (let i = 0; i < 8; i++) {
      send(h.sockets[0], 'status', status(i));
      await tick(3_000);
    }
    expect(h.dialed).toHaveLength(1);
    expect(h.conn.state).toBe('open');
  });

  it('pings sockets that support it, and counts pongs as life', async () => {
    const pings: number[] = [];
    let pong: (() => void) | undefined;
    const h = setup({
      stallTimeoutMs: 5_000,
      pingIntervalMs: 2_000,
      webSocketFactory: (url) => {
        const socket = new MockWebSocket(url) as unknown as WebSocketLike;
        socket.ping = () => {
          pings.push(Date.now());
          pong?.(); // an answering server
        };
        socket.on = (_event, cb) => (pong = cb);
        return socket;
      },
    });
    h.conn.start();
    await tick(10);
    await tick(20_000);
    expect(pings.length).toBeGreaterThanOrEqual(9);
    expect(h.conn.state).toBe('open');
    expect(h.sockets).toHaveLength(1);
  });
});

describe('socketUrl', () => {
  it.each([
    ['http://127.0.0.1:8188', 'ws://127.0.0.1:8188/ws?clientId=abc'],
    ['http://127.0.0.1:8188/', 'ws://127.0.0.1:8188/ws?clientId=abc'],
    ['https://comfy.example.com', 'wss://comfy.example.com/ws?clientId=abc'],
    ['https://example.com/comfy/', 'wss://example.com/comfy/ws?clientId=abc'],
    ['http://h:1/a/b?token=t', 'ws://h:1/a/b/ws?token=t&clientId=abc'],
    ['ws://h:2', 'ws://h:2/ws?clientId=abc'],
  ])('%s -> %s', (base, expected) => {
    expect(socketUrl(base, 'abc')).toBe(expected);
  });

  it('encodes the client id and refuses other schemes', () => {
    expect(socketUrl('http://h', 'a b&c')).toBe('ws://h/ws?clientId=a+b%26c');
    expect(() => socketUrl('ftp://h', 'x')).toThrow(/http/);
  });

  it('redacts passwords for logs', () => {
    expect(redactUrl('wss://user:secret@h/ws')).toBe('wss://user:***@h/ws');
  });
});

describe('stall watch and keep-alive (marbles)', () => {
  const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

  it('errors after the timeout of silence; activity restarts the clock', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const activity = cold('--a-a------');
      expectObservable(stallWatch(activity, 5, ts)).toBe('---------#', undefined, new SocketStalledError(5));
    });
  });

  it('is off with a zero timeout', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(stallWatch(cold('-'), 0, ts)).toBe('');
    });
  });

  it('pings on the interval and emits nothing itself', () => {
    const ts = scheduler();
    ts.run(({ expectObservable, flush }) => {
      const ping = jest.fn();
      expectObservable(keepAlive(ping, 3, ts), '^ 10ms !').toBe('');
      flush();
      expect(ping).toHaveBeenCalledTimes(3);
    });
  });
});
