import type { ComfyEngine, ComfyReads, EngineHost, HostStatus } from '../engine-api.js';
import { describeError } from '../errors.js';

/**
 * One read asked of every ComfyUI host, each answer kept with its host: what the tools that show
 * hosts one by one (get_queue, get_system_stats, list_models) are built on. A host whose socket
 * is reconnecting or closed is not asked (a dead remote host would hold the call for the request
 * timeout): it is reported down with its state. With one host nothing changes: its read is made
 * whatever its state, and its error is the call's error, as before there were fleets.
 */

export type HostAnswer<T> =
  | { host: EngineHost; status: HostStatus; ok: true; value: T }
  | { host: EngineHost; status: HostStatus; ok: false; error: string };

/** A socket that is connecting may well answer HTTP; one that lost its server is not asked. */
const asked = (status: HostStatus): boolean => status.up || status.state === 'connecting';

export function severalHosts(engine: ComfyEngine): boolean {
  return engine.hostList().length > 1;
}

export async function askEveryHost<T>(engine: ComfyEngine, read: (comfy: ComfyReads, host: EngineHost) => Promise<T>): Promise<HostAnswer<T>[]> {
  const hosts = engine.hostList();
  if (hosts.length === 1) {
    const host = hosts[0]!;
    return [{ host, status: host.status(), ok: true, value: await read(host.comfy, host) }];
  }
  return Promise.all(
    hosts.map(async (host): Promise<HostAnswer<T>> => {
      const status = host.status();
      if (!asked(status)) return { host, status, ok: false, error: `${host.name} is unreachable (${status.state})` };
      try {
        return { host, status, ok: true, value: await read(host.comfy, host) };
      } catch (error) {
        return { host, status, ok: false, error: describeError(error).split('\n')[0]! };
      }
    }),
  );
}

/** The host a job ran on, by name; undefined when that name is not (or no longer) configured. */
export function hostNamed(engine: ComfyEngine, name: string | undefined): EngineHost | undefined {
  return name === undefined ? undefined : engine.hostList().find((h) => h.name === name);
}
