import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/wait.js';

/** The test helper that the real-ComfyUI suite cuts connections with: it must carry bytes, cut, and keep serving. */
describe('tcp-proxy helper', () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeAll(async () => {
    // A reset reaches the echo side as ECONNRESET: expected here.
    echo = createServer((s) => s.on('error', () => undefined).pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    proxy = await startTcpProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(proxy.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  const roundTrip = (s: Socket, text: string) =>
    new Promise<string>((resolve) => {
      s.once('data', (d) => resolve(d.toString()));
      s.write(text);
    });

  it('carries bytes both ways, cuts every live connection, then accepts new ones', async () => {
    const a = await open();
    const b = await open();
    expect(await roundTrip(a, 'ping')).toBe('ping');
    expect(await roundTrip(b, 'pong')).toBe('pong');
    await until(() => proxy.live === 2);

    const closed = Promise.all([a, b].map((s) => new Promise<void>((r) => s.once('close', () => r()))));
    a.on('error', () => undefined);
    b.on('error', () => undefined);
    expect(proxy.cutAll()).toBe(2);
    await closed;
    expect(proxy.live).toBe(0);

    const c = await open();
    expect(await roundTrip(c, 'again')).toBe('again');
    expect(proxy.accepted).toBe(3);
    c.destroy();
  });
});
