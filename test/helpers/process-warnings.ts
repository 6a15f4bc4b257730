import vm from 'node:vm';

/**
 * Node's own warnings (MaxListenersExceededWarning and the like) are emitted on the real
 * `process`, which Jest hides behind a copy in each test file; code run in this context reaches it.
 */
const realProcess = vm.runInThisContext('process') as NodeJS.Process;

/** Collects every process warning until `stop()`, which returns them as "Name: message" lines. */
export function captureWarnings(): { stop(): Promise<string[]> } {
  const seen: string[] = [];
  const onWarning = (w: Error) => void seen.push(`${w.name}: ${w.message}`);
  realProcess.on('warning', onWarning);
  return {
    async stop() {
      // emitWarning delivers on the next tick: let pending ones arrive first.
      await new Promise((resolve) => setImmediate(resolve));
      realProcess.off('warning', onWarning);
      return seen;
    },
  };
}
