import type { JobState } from '../../../streams/job-state.js';

/**
 * A bounded wait for a job. A render can outlast a client's call timeout, so running past the
 * bound is a normal outcome (the caller returns a handle), and so is either signal firing.
 */

export type WaitOutcome =
  | { kind: 'done'; state: JobState }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | { kind: 'shutdown' };

export interface WaitSignals {
  /** The tool call's own signal: the client cancelled the request. */
  request: AbortSignal;
  /** The server is shutting down: stop waiting, leave the job to ComfyUI. */
  closing: AbortSignal;
}

/** `timeoutMs` undefined: no bound (the job always ends: success, failure, interrupt or lost). */
export function waitForJob(done: Promise<JobState>, timeoutMs: number | undefined, signals: WaitSignals): Promise<WaitOutcome> {
  if (signals.request.aborted) return Promise.resolve({ kind: 'cancelled' });
  if (signals.closing.aborted) return Promise.resolve({ kind: 'shutdown' });
  return new Promise<WaitOutcome>((resolve) => {
    const finish = (outcome: WaitOutcome): void => {
      clearTimeout(timer);
      signals.request.removeEventListener('abort', onCancel);
      signals.closing.removeEventListener('abort', onShutdown);
      resolve(outcome);
    };
    const onCancel = (): void => finish({ kind: 'cancelled' });
    const onShutdown = (): void => finish({ kind: 'shutdown' });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    signals.request.addEventListener('abort', onCancel, { once: true });
    signals.closing.addEventListener('abort', onShutdown, { once: true });
    done.then((state) => finish({ kind: 'done', state }));
  });
}
