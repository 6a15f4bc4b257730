import { Session } from 'node:inspector/promises';

/**
 * Exact numbers of live objects, from V8 itself: Runtime.queryObjects collects garbage, then
 * finds every object whose prototype chain holds the given prototype. Heap bytes drift with
 * compiled code and feedback as the JIT settles (a megabyte over thousands of jobs); object
 * counts do not (±a dozen over 100-job windows of the soak), so one object kept per job shows.
 * Counted through the main realm's prototypes, which the code under test shares under Jest's
 * ESM runner (its own context's Object.prototype holds a handful of objects).
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
    const count = async (expression: string): Promise<number> => {
      const { result } = await session.post('Runtime.evaluate', { expression });
      const { objects } = await session.post('Runtime.queryObjects', { prototypeObjectId: result.objectId! });
      const { result: length } = await session.post('Runtime.callFunctionOn', {
        objectId: objects.objectId!,
        functionDeclaration: 'function () { return this.length; }',
        returnByValue: true,
      });
      await session.post('Runtime.releaseObjectGroup', { objectGroup: 'console' }).catch(() => undefined);
      await session.post('Runtime.releaseObject', { objectId: objects.objectId! });
      await session.post('Runtime.releaseObject', { objectId: result.objectId! });
      return length.value as number;
    };
    return { objects: await count('Object.prototype'), functions: await count('Function.prototype') };
  } finally {
    session.disconnect();
  }
}
