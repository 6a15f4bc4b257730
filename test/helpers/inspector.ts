import WebSocket from 'ws';

/**
 * A child Node process's heap, read through its inspector (Chrome DevTools Protocol), the
 * documented way to look into a running process from outside: start the child with
 * NODE_OPTIONS=--inspect=127.0.0.1:0 and hand this the URL it prints on stderr ("Debugger
 * listening on ws://..."). Nothing in the product is involved.
 */
export interface HeapProbe {
  /** A full garbage collection, then the bytes in use on the JS heap. */
  usedAfterGc(): Promise<number>;
  close(): Promise<void>;
}

const GC_PASSES = 8;

export const INSPECTOR_URL = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/;

export async function connectHeapProbe(url: string): Promise<HeapProbe> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    const w = msg.id === undefined ? undefined : waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id!);
    if (msg.error) w.reject(new Error(`inspector: ${msg.error.message}`));
    else w.resolve(msg.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async usedAfterGc() {
      // Several passes: one can leave what finalizers and weak callbacks release for the next, and
      // V8 drops the bytecode of functions unused for a few collections (start-up code): without
      // them that release would show up as noise between two readings.
      for (let i = 0; i < GC_PASSES; i++) await send('HeapProfiler.collectGarbage');
      const { usedSize } = (await send('Runtime.getHeapUsage')) as { usedSize: number };
      return usedSize;
    },
    close: () =>
      new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}
