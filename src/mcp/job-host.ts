import type { ComfyEngine, EngineHost } from '../engine-api.js';
import type { JobState } from '../../streams/job-state.js';
import { hostNamed } from './host-reads.js';

/**
 * Where a job is, as tools tell it when there are several ComfyUI hosts: the host's name, why
 * dispatch sent it there, and the host's state now when its socket is not open (the job is then
 * waiting on that host, not stuck in comfywire). With one host there is nothing to tell.
 */
export interface JobHost {
  host: string;
  dispatch?: string;
  /** The host's socket state when it is not open (reconnecting, connecting, closed). */
  hostState?: string;
  /** What that means for a job not finished yet, under the failover policy. */
  hostNote?: string;
}

export function jobHost(engine: ComfyEngine, state: Pick<JobState, 'host' | 'dispatch'>, name = state.host): JobHost | undefined {
  if (name === undefined || engine.hostList().length <= 1) return undefined;
  const out: JobHost = { host: name };
  if (state.dispatch !== undefined) out.dispatch = state.dispatch;
  const status = hostNamed(engine, name)?.status();
  if (status && !status.up) {
    out.hostState = status.state;
    out.hostNote =
      engine.config.failover === 'requeue'
        ? `${name} is unreachable (${status.state}); the job resumes or is re-dispatched once it is back.`
        : `${name} is unreachable (${status.state}); the job resumes once it is back, or ends lost if the host restarted without it (COMFYWIRE_FAILOVER=off).`;
  }
  return out;
}

/** The host's own /view address of a file, for a job on a known host (the fleet's default is its first host's). */
export function viewUrlOn(engine: ComfyEngine, name: string | undefined): EngineHost['comfy']['viewUrl'] | undefined {
  const host = hostNamed(engine, name);
  return host ? (...args) => host.comfy.viewUrl(...args) : undefined;
}
