import { Session } from 'node:inspector/promises';

/**
 * Exact numbers of live objects, from V8 itself: Runtime.queryObjects collects garbage, then
 * finds every object whose prototype chain holds the given prototype. Heap bytes drift with
 * compiled code and feedback as the JIT settles (a megabyte over thousands of jobs); object
 * counts do not (±a few between the soak's windows), so one object kept per job shows.
 *
 * Every execution context is counted: Jest runs the test and the code under test in a context
 * of its own (its own Object.prototype), Node's internals (sockets, streams) in the main one.
 */

export interface Census {
  /** Every live object, functions (closures) and arrays included. */
  objects: number;
  /** Of which functions. */
  functions: number;
}

export async function objectCensus(): Promise<Census> {
  const session = new Session();
  session.connect();
  try {
    // Enabling the runtime reports the contexts that exist; they are all we need of it.
    const contexts: number[] = [];
    session.on('Runtime.executionContextCreated', (e) => void contexts.push(e.params.context.id));
    await session.post('Runtime.enable');
    await session.post('Runtime.disable');
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
    const census: Census = { objects: 0, functions: 0 };
    for (const id of contexts) {
      census.objects += await count(id, 'Object.prototype');
      census.functions += await count(id, 'Function.prototype');
    }
    return census;
  } finally {
    session.disconnect();
  }
}
