import WebSocket from 'ws';

/**
 * A child Node process's heap, read through its inspector (Chrome DevTools Protocol), the
 * documented way to look into a running process from outside: start the child with
 * NODE_OPTIONS=--inspect=127.0.0.1:0 and hand this the URL it prints on stderr ("Debugger
 * listening on ws://..."). Nothing in the product is involved.
 *
 * Two readings, for two purposes. The bytes in use move with V8's own work as much as with the
 * program's: functions optimized as they get hot add code and its metadata for minutes, and
 * bytecode of start-up code is dropped after a few ordinary collections (about 1 MB at once).
 * The number of objects of each class does not: it comes back to the same figure, within a few
 * dozen, after every drained round of a server that keeps nothing per job, and one object kept
 * per job adds exactly one per job.
 */
export interface HeapProbe {
  /** A full garbage collection, then the bytes in use on the JS heap. */
  usedAfterGc(): Promise<number>;
  /** A full garbage collection, then the live objects counted by class (see `objectCounts`). */
  countsAfterGc(): Promise<ObjectCounts>;
  close(): Promise<void>;
}

/**
 * Live objects by the name of their class ("TrackedJob", "Map", "Object"; esbuild may suffix a
 * renamed one: "Observable3"), functions as `function <name>` (`function (anonymous)` for the
 * unnamed closures), a Proxy, should the inspector ever list one, as `(proxy)` (never asked anything: its traps
 * would run the program's code).
 * Objects without Object.prototype in their chain (Object.create(null)) are not counted.
 */
export type ObjectCounts = Record<string, number>;

const GC_PASSES = 8;
/** Everything the probe creates in the child belongs to this group, released after each reading. */
const GROUP = 'comfywire-heap-probe';

export const INSPECTOR_URL = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/;

/**
 * Runs in the child on the array Runtime.queryObjects returns. Reads only own data properties
 * (descriptors, never getters) so that counting runs none of the program's code.
 */
const COUNT_BY_CLASS = `function (isProxy) {
  const counts = Object.create(null);
  const data = (o, key) => { const d = Object.getOwnPropertyDescriptor(o, key); return d && 'value' in d ? d.value : undefined; };
  for (const o of this) {
    let key;
    if (isProxy(o)) key = '(proxy)';
    else if (typeof o === 'function') key = 'function ' + (String(data(o, 'name') ?? '') || '(anonymous)');
    else {
      const proto = Object.getPrototypeOf(o);
      const ctor = proto === null ? undefined : data(proto, 'constructor');
      const name = typeof ctor === 'function' ? data(ctor, 'name') : undefined;
      key = typeof name === 'string' && name !== '' ? name : '(no class name)';
    }
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}`;

interface RemoteObject {
  objectId?: string;
  value?: unknown;
}

export async function connectHeapProbe(url: string): Promise<HeapProbe> {
  // A reading's answer is small (counts, not objects), but leave room for a large one.
  const ws = new WebSocket(url, { maxPayload: 256 * 2 ** 20 });
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
  const send = <T>(method: string, params: Record<string, unknown> = {}): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const collect = async (): Promise<void> => {
    // Several passes: one can leave what finalizers and weak callbacks release for the next.
    for (let i = 0; i < GC_PASSES; i++) await send('HeapProfiler.collectGarbage');
  };
  /** An object in the child, held in GROUP until the reading ends. */
  const evaluate = async (expression: string): Promise<string> => {
    const { result, exceptionDetails } = await send<{ result: RemoteObject; exceptionDetails?: unknown }>('Runtime.evaluate', {
      expression,
      objectGroup: GROUP,
      // The console's command-line API, for `require` in an ES module program.
      includeCommandLineAPI: true,
    });
    if (exceptionDetails !== undefined || result.objectId === undefined) throw new Error(`inspector: ${expression} gave no object`);
    return result.objectId;
  };
  return {
    async usedAfterGc() {
      await collect();
      const { usedSize } = await send<{ usedSize: number }>('Runtime.getHeapUsage');
      return usedSize;
    },
    async countsAfterGc() {
      await collect();
      try {
        const prototypeObjectId = await evaluate('Object.prototype');
        const isProxy = await evaluate("require('node:util').types.isProxy");
        // Every live object whose prototype chain holds Object.prototype, as one array in GROUP.
        const { objects } = await send<{ objects: RemoteObject }>('Runtime.queryObjects', { prototypeObjectId, objectGroup: GROUP });
        const { result, exceptionDetails } = await send<{ result: RemoteObject; exceptionDetails?: { text: string } }>('Runtime.callFunctionOn', {
          objectId: objects.objectId,
          functionDeclaration: COUNT_BY_CLASS,
          arguments: [{ objectId: isProxy }],
          returnByValue: true,
          objectGroup: GROUP,
        });
        if (exceptionDetails !== undefined) throw new Error(`inspector: counting failed: ${exceptionDetails.text}`);
        return result.value as ObjectCounts;
      } finally {
        // The array (and with it every object) would otherwise stay alive: the probe's own leak.
        await send('Runtime.releaseObjectGroup', { objectGroup: GROUP });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}

/** The classes with at least `atLeast` more live objects in `now` than in `base`, most grown first. */
export function grownClasses(base: ObjectCounts, now: ObjectCounts, atLeast: number): Array<{ name: string; grown: number }> {
  return Object.keys(now)
    .map((name) => ({ name, grown: now[name]! - (base[name] ?? 0) }))
    .filter((c) => c.grown >= atLeast)
    .sort((a, b) => b.grown - a.grown);
}
