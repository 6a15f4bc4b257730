import type { ObjectInfo } from '../comfy/types.js';
import { describeError } from '../errors.js';
import { modelKey } from './prompt-needs.js';

/**
 * What one host can run: its node classes (/object_info) and its model files (/models/{folder}).
 * Read when the host first connects and again after every reconnect (a restarted ComfyUI may have
 * new custom nodes or models), and at most every `maxAgeMs` otherwise; a stale catalog is still
 * served while the new one loads, so a dispatch never waits on a slow /object_info it has seen.
 */
export interface Catalog {
  nodeClasses: ReadonlySet<string>;
  /** Model file names of every folder, with "/" as the separator (modelKey). */
  models: ReadonlySet<string>;
  readAt: number;
}

export type CatalogRead = { ok: true; catalog: Catalog } | { ok: false; error: string };

export interface CatalogSource {
  objectInfo(): Promise<ObjectInfo>;
  listModelFolders(): Promise<string[]>;
  listModels(folder: string): Promise<string[]>;
}

/**
 * Folders /models lists that hold no models: `custom_nodes` has no extension filter in ComfyUI
 * (folder_paths.py), so it would list every file of every custom node; `configs` holds YAML.
 */
const NOT_MODELS = new Set(['custom_nodes', 'configs']);

/** Longest a catalog serves before it is read again (in the background). */
export const CATALOG_MAX_AGE_MS = 5 * 60_000;

export class HostCatalog {
  private last: CatalogRead | undefined;
  private loading: Promise<CatalogRead> | undefined;
  /** Bumped by invalidate(): a read started before it must not become the catalog. */
  private generation = 0;

  constructor(
    private readonly source: CatalogSource,
    private readonly now: () => number = Date.now,
    private readonly maxAgeMs = CATALOG_MAX_AGE_MS,
  ) {}

  /** The catalog read last, if any (synchronous: dispatch decides on it). */
  peek(): CatalogRead | undefined {
    return this.last;
  }

  /** Forget what was read, and a read in flight: the next get() reads the host again (called on reconnect). */
  invalidate(): void {
    this.last = undefined;
    this.loading = undefined;
    this.generation++;
  }

  /** The catalog: the last one if fresh, a stale one while a new read runs, else a new read. */
  get(): Promise<CatalogRead> {
    const last = this.last;
    const fresh = last?.ok && this.now() - last.catalog.readAt <= this.maxAgeMs;
    if (last && fresh) return Promise.resolve(last);
    if (this.loading === undefined) {
      const mine = this.read().finally(() => {
        if (this.loading === mine) this.loading = undefined;
      });
      this.loading = mine;
    }
    const loading = this.loading;
    // Stale but usable: answer now, refresh behind.
    return last?.ok ? Promise.resolve(last) : loading;
  }

  private async read(): Promise<CatalogRead> {
    const generation = this.generation;
    let read: CatalogRead;
    try {
      const [info, folders] = await Promise.all([this.source.objectInfo(), this.source.listModelFolders()]);
      // One unreadable folder (a custom node's odd entry) costs that folder, not the host.
      const lists = await Promise.allSettled(folders.filter((f) => !NOT_MODELS.has(f)).map((f) => this.source.listModels(f)));
      const models = new Set<string>();
      for (const list of lists) if (list.status === 'fulfilled') for (const name of list.value) models.add(modelKey(name));
      read = { ok: true, catalog: { nodeClasses: new Set(Object.keys(info)), models, readAt: this.now() } };
    } catch (err) {
      read = { ok: false, error: describeError(err) };
    }
    if (generation === this.generation) this.last = read;
    return read;
  }
}
