import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Memory figures that do not flake: a full collection (several passes, with a turn of the event
 * loop between them so finalizers and closed sockets let go) before every reading. Jest workers
 * run without --expose-gc; setting the flag at run time makes `gc` available to new contexts.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export async function collectGarbage(passes = 3): Promise<void> {
  for (let i = 0; i < passes; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Heap and RSS in bytes after a full collection. */
export async function settledMemory(): Promise<{ heap: number; rss: number }> {
  await collectGarbage();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss };
}

export const KB = 1024;
export const MB = 1024 * 1024;
