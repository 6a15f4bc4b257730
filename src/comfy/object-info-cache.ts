import type { ObjectInfo } from './types.js';

/** Long enough to serve a burst of generations, short enough to see a newly installed model. */
export const OBJECT_INFO_TTL_MS = 60_000;

/**
 * ComfyUI's /object_info, cached briefly: the real server scans its model folders to answer,
 * which takes seconds on a large install, and every generation validates against it.
 * The TTL counts from the answer, and callers share a request in flight: an install slow enough
 * to answer after more than the TTL would otherwise get a new scan started by every caller.
 * A failure is not cached.
 */
export class ObjectInfoCache {
  /** answeredAt is undefined while the request is in flight. */
  private entry: { answeredAt: number | undefined; value: Promise<ObjectInfo> } | undefined;

  constructor(private readonly fetch: () => Promise<ObjectInfo>) {}

  /** Forget the answer (ComfyUI reconnected: it may have restarted with other nodes or models). */
  invalidate(): void {
    if (this.entry?.answeredAt !== undefined) this.entry = undefined;
  }

  get(): Promise<ObjectInfo> {
    const cache = this.entry;
    if (cache && (cache.answeredAt === undefined || Date.now() - cache.answeredAt <= OBJECT_INFO_TTL_MS)) return cache.value;
    const entry: { answeredAt: number | undefined; value: Promise<ObjectInfo> } = { answeredAt: undefined, value: this.fetch() };
    this.entry = entry;
    entry.value.then(
      () => (entry.answeredAt = Date.now()),
      () => {
        if (this.entry === entry) this.entry = undefined;
      },
    );
    return entry.value;
  }
}
