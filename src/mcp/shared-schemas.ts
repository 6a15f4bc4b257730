import type { McpDeps } from './deps.js';

/**
 * Schemas built once per process and shared by every McpServer on it. Streamable HTTP makes one
 * server per session; zod schemas are big (generate_image's input alone was ~0.5 MB, the three
 * prompts' ~0.2 MB), and what they hold depends only on the config (limits, defaults) and, for
 * the completers that prompt arguments carry, on the engine: both the same for every session.
 * Keyed weakly on those two, so a process (or a test) that drops them drops the schemas too.
 */

type Key = Pick<McpDeps, 'config' | 'engine'>;

const built = new WeakMap<object, WeakMap<object, Map<string, unknown>>>();

/** `build()` once per (config, engine) and `name`; the same object every time after. */
export function sharedSchema<T>(name: string, deps: Key, build: () => T): T {
  let byEngine = built.get(deps.config);
  if (!byEngine) built.set(deps.config, (byEngine = new WeakMap()));
  let byName = byEngine.get(deps.engine);
  if (!byName) byEngine.set(deps.engine, (byName = new Map()));
  if (!byName.has(name)) byName.set(name, build());
  return byName.get(name) as T;
}
