import { ConfigInvalidError } from '../errors.js';
import { startSimulator, type Simulator, type SimulatorOptions } from './index.js';

/** Per-instance options: everything but the port, which the fleet assigns. */
export type InstanceOptions = Omit<SimulatorOptions, 'port'>;

export interface SimulatorFleetOptions {
  /** Port of the first instance, the others in a row after it; 0 (default) = a free port for each. */
  basePort?: number;
}

export interface SimulatorFleet {
  simulators: Simulator[];
  /** Their URLs in order: what COMFYUI_URLS takes, comma-separated. */
  urls: string[];
  close(): Promise<void>;
}

/**
 * Start `count` simulators, several ComfyUI hosts for fleet tests and demos. `options` holds one
 * entry per instance, or one for all (none = defaults). If any fails to start (a port taken),
 * those that started are closed and the first failure is thrown: never half a fleet.
 */
export async function startSimulators(count: number, options: readonly InstanceOptions[] = [], fleet: SimulatorFleetOptions = {}): Promise<SimulatorFleet> {
  if (!Number.isInteger(count) || count < 1) throw new ConfigInvalidError(`simulators: the instance count must be a whole number of 1 or more, got ${String(count)}.`);
  if (options.length > 1 && options.length !== count) {
    throw new ConfigInvalidError(`simulators: ${options.length} option sets for ${count} instances.`, { hint: 'Give one option set for all instances, or one per instance.' });
  }
  const basePort = fleet.basePort ?? 0;
  if (basePort !== 0 && basePort + count - 1 > 65535) {
    throw new ConfigInvalidError(`simulators: ports ${basePort}..${basePort + count - 1} run past 65535.`, { hint: 'Choose a lower first port, or port 0 for free ports.' });
  }
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) =>
    startSimulator({ ...(options[i] ?? options[0] ?? {}), port: basePort === 0 ? 0 : basePort + i })));
  const simulators = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const close = async (): Promise<void> => { await Promise.all(simulators.map((s) => s.close())); };
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { simulators, urls: simulators.map((s) => s.url), close };
}
