/**
 * A stand-in for an object that is made later, handed out now: every property read is forwarded to
 * the object once `bind` has given it (methods bound to it, so `this` is the real one); `before`
 * answers the reads that may come earlier. Used by the
 * stdio server, which is built before its engine exists (src/mcp/startup-gate.ts holds every call
 * that could reach the engine until it is bound); a read before that is a bug, and says so.
 */
export interface LateBound<T extends object> {
  readonly value: T;
  bind(target: T): void;
}

export function lateBound<T extends object>(what: string, before: Partial<T> = {}): LateBound<T> {
  let target: T | undefined;
  /** Each method bound once (per function): reads on the hot path (every tool call) allocate nothing. */
  let bound = new WeakMap<(...a: unknown[]) => unknown, (...a: unknown[]) => unknown>();
  const real = (): T => {
    if (!target) throw new Error(`internal: ${what} was used before it was made (a message passed the start-up gate too early)`);
    return target;
  };
  const value = new Proxy({} as T, {
    get(_, key) {
      // What may be read before the object exists (e.g. a stream subscribed to at registration).
      if (!target && Object.hasOwn(before, key)) return (before as Record<PropertyKey, unknown>)[key];
      const t = real();
      const v: unknown = Reflect.get(t, key, t);
      if (typeof v !== 'function') return v;
      const fn = v as (...a: unknown[]) => unknown;
      let b = bound.get(fn);
      if (!b) bound.set(fn, (b = fn.bind(t)));
      return b;
    },
    has: (_, key) => Reflect.has(real(), key),
  });
  return {
    value,
    bind(t) {
      target = t;
      bound = new WeakMap();
    },
  };
}
