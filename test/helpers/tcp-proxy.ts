import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A loopback TCP proxy whose live connections can be cut on demand, to put a network failure
 * between comfywire and a server (HTTP keep-alive sockets and the WebSocket alike). It works on
 * bytes, so it neither knows nor changes the protocols it carries; after a cut it keeps
 * accepting new connections, like a network that comes back.
 */
export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Connections accepted since the start. */
  readonly accepted: number;
  /** Connections open right now. */
  readonly live: number;
  /**
   * Resets every open connection on both sides (TCP RST, as a dropped link or a restarted NAT
   * would look to both ends) and returns how many there were.
   */
  cutAll(): number;
  close(): Promise<void>;
}

interface Pair {
  inbound: Socket;
  outbound: Socket;
}

/** Resets when the platform can (Node >= 16.17), else a plain destroy. */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function' && !socket.connecting) socket.resetAndDestroy();
  else socket.destroy();
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;

  const server = createServer((inbound) => {
    accepted++;
    const outbound = connect(target.port, target.host);
    const pair: Pair = { inbound, outbound };
    pairs.add(pair);
    // One side gone means the other has nothing to talk to: close it too, and forget the pair.
    const drop = () => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    get live() {
      return pairs.size;
    },
    cutAll() {
      const cut = [...pairs];
      pairs.clear();
      for (const { inbound, outbound } of cut) {
        reset(inbound);
        reset(outbound);
      }
      return cut.length;
    },
    close() {
      for (const { inbound, outbound } of pairs) {
        inbound.destroy();
        outbound.destroy();
      }
      pairs.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
