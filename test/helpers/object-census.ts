import { Session } from 'node:inspector/promises';

/**
 * Exact numbers of live objects, from V8 itself: Runtime.queryObjects collects garbage, then
 * finds every object whose prototype chain holds the given prototype. Heap bytes drift with
 * compiled code and feedback as the JIT settles (a megabyte over thousands of jobs); object
 * counts do not (±a few between the soak's windows), so one object kept per job shows.
 *
 * Two execution contexts are counted: the one this module runs in (Jest runs the test and the
 * code under test in a context of its own, with its own Object.prototype) and Node's main one
 * (its internals: sockets, streams). Not the others: a Jest worker keeps the contexts of the test
 * files it ran before, and each counted context is a walk over the whole heap (in a busy suite
 * run, dozens of them made one census take minutes).
 */

/** A global set in this module's context only, to tell it apart from the worker's other contexts. */
const MARK = `__objectCensusContext_${process.pid}_${Math.random().toString(36).slice(2)}`;
(globalThis as Record<string, unknown>)[MARK] = true;

export interface Census {
  /**
   * Every live object, functions (closures) and arrays included. (Functions are not counted apart:
   * they are objects too, and each count is a walk over the whole heap, seconds in a test worker.)
   */
  objects: number;
}

export async function objectCensus(): Promise<Census> {
  const session = new Session();
  session.connect();
  try {
    // Enabling the runtime reports the contexts that exist; they are all we need of it.
    const all: Array<{ id: number; main: boolean }> = [];
    session.on('Runtime.executionContextCreated', (e) => {
      const aux = e.params.context.auxData as { isDefault?: boolean } | undefined;
      all.push({ id: e.params.context.id, main: aux?.isDefault === true });
    });
    await session.post('Runtime.enable');
    await session.post('Runtime.disable');
    const contexts: number[] = [];
    let ours = false;
    for (const { id, main } of all) {
      const { result } = await session.post('Runtime.evaluate', { expression: `globalThis[${JSON.stringify(MARK)}] === true`, contextId: id, returnByValue: true });
      ours ||= result.value === true;
      if (main || result.value === true) contexts.push(id);
    }
    // Without this module's context the census would miss the code under test: say so rather than count too little.
    if (!ours) throw new Error(`object census: this test's context is not among the ${all.length} the inspector reports`);
    const count = async (contextId: number, expression: string): Promise<number> => {
      const { result } = await session.post('Runtime.evaluate', { expression, contextId });
      const { objects } = await session.post('Runtime.queryObjects', { prototypeObjectId: result.objectId! });
      const { result: length } = await session.post('Runtime.callFunctionOn', {
        objectId: objects.objectId!,
        functionDeclaration: 'function () { return this.length; }',
        returnByValue: true,
      });
      await session.post('Runtime.releaseObject', { objectId: objects.objectId! });
      await session.post('Runtime.releaseObject', { objectId: result.objectId! });
      return length.value as number;
    };
    const census: Census = { objects: 0 };
    for (const id of contexts) {
      census.objects += await count(id, 'Object.prototype');
    }
    return census;
  } finally {
    session.disconnect();
  }
}
