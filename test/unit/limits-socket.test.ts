import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Server, WebSocket as MockWebSocket, type Client } from 'mock-socket';
import { interval, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  ComfyConnection, DEFAULT_PING_INTERVAL_MS, DEFAULT_STALL_TIMEOUT_MS, type ConnectionState, type WebSocketLike,
} from '../../streams/connection.js';
import { STALLED_CLOSE_CODE } from '../../streams/socket-session.js';
import { SocketStalledError, keepAlive, stallWatch } from '../../streams/stall-watch.js';
import { silentLogger } from '../../src/logger.js';

/**
 * The socket's two time limits at their defaults, on both sides: the stall timeout (45 s without a
 * frame, a pong or the open) and the ping interval (15 s). A ComfyUI loading a model for an hour
 * sends no frame at all but answers pings: that socket must be kept. One that stops answering
 * pings too is dropped 45 s after its last sign of life, not a millisecond before.
 */

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const STALL = DEFAULT_STALL_TIMEOUT_MS;
const PING = DEFAULT_PING_INTERVAL_MS;

describe('the defaults', () => {
  it('stall after 45 s, ping every 15 s: three missed pings before a socket counts as dead', () => {
    expect([STALL, PING]).toEqual([45 * S, 15 * S]);
  });
});

describe('stall watch and keep-alive at their defaults (marbles, virtual time)', () => {
  const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

  it('44 999 ms of silence: nothing; 45 000 ms: stalled', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const silent = cold('-');
      expectObservable(stallWatch(silent, STALL, ts), `^ ${STALL - 2}ms !`).toBe('');
      expectObservable(stallWatch(silent, STALL, ts)).toBe(`${STALL}ms #`, undefined, new SocketStalledError(STALL));
    });
  });

  it('pongs every 15 s for an hour keep it alive; it stalls exactly 45 s after the last one', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const pongs = interval(PING, ts).pipe(take(HOUR / PING)); // the last pong at 1 h
      expectObservable(stallWatch(pongs, STALL, ts)).toBe(`${HOUR + STALL}ms #`, undefined, new SocketStalledError(STALL));
    });
  });

  it('a sign of life 1 ms before the limit restarts the full 45 s', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const late = cold(`${STALL - 1}ms a`);
      expectObservable(stallWatch(late, STALL, ts)).toBe(`${2 * STALL - 1}ms #`, undefined, new SocketStalledError(STALL));
    });
  });

  it('pings every 15 s: none at 14 999 ms, one at 15 000 ms, 240 in an hour', () => {
    const at = (ms: number) => {
      const ts = scheduler();
      const pings: number[] = [];
      ts.run(({ expectObservable }) => {
        expectObservable(keepAlive(() => pings.push(ts.now()), PING, ts), `^ ${ms - 1}ms !`).toBe('');
      });
      return pings;
    };
    expect(at(PING - 1)).toEqual([]);
    expect(at(PING + 1)).toEqual([PING]);
    const hour = at(HOUR + 1);
    expect(hour).toHaveLength(HOUR / PING);
    expect(new Set(hour.slice(1).map((t, i) => t - hour[i]!))).toEqual(new Set([PING]));
  });
});

/*
 * The whole connection against mock-socket's in-memory server, on jest's fake timers. The socket
 * gets a ping() whose pong the test can withhold: a ComfyUI busy loading a model (answers pings)
 * versus a dead proxy (answers nothing).
 */
describe('ComfyConnection at the default stall and ping limits (mock-socket, fake timers)', () => {
  let nextPort = 18_600;
  let server: Server;
  let conn: ComfyConnection;
  let sockets: Client[];
  let closedByClient: Array<{ at: number; code: number | undefined }>;
  let dialed: number[];
  let pings: number[];
  let pongs: number[];
  let answerPings: boolean;
  let states: ConnectionState[];

  const tick = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  beforeEach(async () => {
    jest.useFakeTimers();
    const port = nextPort++;
    server = new Server(`ws://localhost:${port}/ws`, { mock: false });
    sockets = [];
    closedByClient = [];
    server.on('connection', (socket) => {
      sockets.push(socket);
    });
    dialed = [];
    pings = [];
    pongs = [];
    answerPings = true;
    conn = new ComfyConnection({
      baseUrl: `http://localhost:${port}`,
      clientId: 'limits',
      logger: silentLogger(),
      backoff: { jitter: 'none' },
      webSocketFactory: (url) => {
        dialed.push(Date.now());
        const socket = new MockWebSocket(url) as unknown as WebSocketLike;
        const close = socket.close.bind(socket);
        socket.close = (code, reason) => {
          closedByClient.push({ at: Date.now(), code });
          close(code, reason);
        };
        let onPong: (() => void) | undefined;
        socket.on = (_event, cb) => (onPong = cb);
        socket.ping = () => {
          pings.push(Date.now());
          if (!answerPings) return;
          pongs.push(Date.now());
          onPong?.();
        };
        return socket;
      },
    });
    states = [];
    conn.state$.subscribe((s) => states.push(s));
    conn.start();
    await tick(10);
    expect(conn.state).toBe('open');
  });

  afterEach(async () => {
    const closing = conn.close();
    await tick(5 * S);
    await closing;
    server.stop();
    jest.useRealTimers();
  });

  for (const [label, silence] of [['10 minutes', 10 * MIN], ['1 hour', HOUR]] as const) {
    it(`no frame for ${label}, pings answered: the same socket stays open`, async () => {
      await tick(silence);
      expect(conn.state).toBe('open');
      expect(dialed).toHaveLength(1);
      expect(closedByClient).toEqual([]);
      expect(pings).toHaveLength(silence / PING);
      // And it still delivers: the silence ends with a frame.
      let got = 0;
      conn.events$.subscribe(() => got++);
      sockets[0]!.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } } } }));
      expect(got).toBe(1);
    });
  }

  it('pongs stop: the socket is kept until 45 s after the last pong, then dropped (code 4000) and redialed', async () => {
    await tick(10 * MIN);
    answerPings = false;
    const lastPong = pongs.at(-1)!;
    // Just below: 45 s minus 1 ms after the last sign of life, nothing has happened.
    await tick(lastPong + STALL - 1 - Date.now());
    expect(conn.state).toBe('open');
    expect(closedByClient).toEqual([]);
    // Just above: the limit is reached, the stalled socket is closed and a reconnect begins.
    await tick(1);
    expect(closedByClient).toEqual([{ at: lastPong + STALL, code: STALLED_CLOSE_CODE }]);
    await tick(10); // mock-socket delivers the close after 4 ms; only then may a new socket dial
    expect(conn.state).toBe('reconnecting');
    expect(dialed).toHaveLength(1);
    await tick(1 * S); // first backoff delay (500 ms, no jitter)
    expect(dialed).toHaveLength(2);
    expect(conn.state).toBe('open');
  });
});
