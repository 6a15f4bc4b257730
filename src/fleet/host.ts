import { filter, type Subscription } from 'rxjs';
import type { Config } from '../config.js';
import type { HostStatus } from '../engine-api.js';
import { Engine, type EngineOptions } from '../engine.js';
import { HostCatalog } from './host-catalog.js';
import { HostLoad } from './host-load.js';
import type { HostSpec } from './hosts.js';

/**
 * One host of a fleet: its configuration, its Engine (socket, router, tracker, policies, HTTP
 * pool: the single-server design, unchanged), what it can run (catalog) and how busy and fast it
 * is (load), with what keeps the last two current.
 */
export interface Host {
  spec: HostSpec;
  engine: Engine;
  catalog: HostCatalog;
  load: HostLoad;
}

export function createHost(spec: HostSpec, config: Readonly<Config>, engineOptions: Omit<EngineOptions, 'config' | 'hostName'>): Host {
  const hostConfig: Config = { ...config, comfyUrl: spec.url, auth: spec.auth };
  const engine = new Engine({ ...engineOptions, config: hostConfig, hostName: spec.name });
  const catalog = new HostCatalog({
    objectInfo: () => engine.objectInfo(),
    listModelFolders: () => engine.client.listModelFolders(),
    listModels: (folder) => engine.client.listModels(folder),
  });
  return { spec, engine, catalog, load: new HostLoad() };
}

/**
 * Keeps the host's figures current from its socket: the queue from its status broadcasts; and,
 * when dispatch needs them (several hosts), its catalog read once it is up and again after each
 * reconnect (a restart may bring other nodes or models; the engine forgot its /object_info first,
 * having subscribed first), its loaded model forgotten (a restarted host has none).
 */
export function watchHost(h: Host, withCatalog: boolean): Subscription[] {
  const { connection } = h.engine;
  const subscriptions = [connection.queueRemaining$.subscribe((n) => (h.load.statusQueue = n))];
  if (!withCatalog) return subscriptions;
  subscriptions.push(
    connection.state$.pipe(filter((s) => s === 'open')).subscribe(() => {
      h.catalog.invalidate();
      void h.catalog.get();
      h.load.forgetModel();
    }),
  );
  return subscriptions;
}

export function hostStatus(h: Host): HostStatus {
  const read = h.catalog.peek();
  const state = h.engine.connection.state;
  return {
    name: h.spec.name,
    url: h.spec.url,
    state,
    up: state === 'open',
    weight: h.spec.weight,
    tags: h.spec.tags,
    draining: h.spec.drain,
    queue: h.load.queueLength(),
    jobsInFlight: h.engine.inFlight().length,
    secondsPerJob: h.load.averageSeconds(),
    loadedCheckpoint: h.load.loadedCheckpoint,
    catalog: read === undefined ? undefined : read.ok ? { nodeClasses: read.catalog.nodeClasses.size, models: read.catalog.models.size } : { error: read.error },
  };
}
