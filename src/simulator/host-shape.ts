import { ConfigInvalidError } from '../errors.js';
import { excerpt } from '../input-policy/excerpt.js';
import { knownClass } from './object-info.js';

/** The checkpoints a simulator offers unless told otherwise. */
export const SIMULATOR_CHECKPOINTS = ['sd15-random.safetensors', 'v1-5-pruned-emaonly.safetensors'] as const;

/** What makes one simulated host differ from another: its model files, its nodes, its load cost. */
export interface HostShapeOptions {
  /** /models/checkpoints and CheckpointLoaderSimple's ckpt_name combo; default SIMULATOR_CHECKPOINTS. */
  checkpoints?: readonly string[];
  /** Node classes this host lacks (a custom node not installed); must be classes the simulator knows. */
  omitNodes?: readonly string[];
  /** Extra time of a CheckpointLoaderSimple that loads a checkpoint other than the one held (default 0). */
  modelLoadMs?: number;
}

export interface HostShape {
  checkpoints: readonly string[];
  omitNodes: ReadonlySet<string>;
  modelLoadMs: number;
}

/** The options checked once at start: a mistyped class or a negative time fails loudly, not as odd 400s later. */
export function hostShape(options: HostShapeOptions): HostShape {
  const checkpoints = [...(options.checkpoints ?? SIMULATOR_CHECKPOINTS)];
  for (const name of checkpoints) {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new ConfigInvalidError('simulator: a checkpoint name is empty.', { hint: 'Give each checkpoint a file name, e.g. sd15-random.safetensors.' });
    }
  }
  const omitNodes = new Set(options.omitNodes ?? []);
  for (const name of omitNodes) {
    if (!knownClass(name)) {
      throw new ConfigInvalidError(`simulator: cannot omit node class ${excerpt(name)}: the simulator has no such class.`, {
        hint: 'Name a class listed by the simulator\'s /object_info, e.g. HarnessText.',
      });
    }
  }
  const modelLoadMs = options.modelLoadMs ?? 0;
  if (!Number.isFinite(modelLoadMs) || modelLoadMs < 0) {
    throw new ConfigInvalidError(`simulator: model load time must be 0 or more milliseconds, got ${excerpt(String(modelLoadMs))}.`);
  }
  return { checkpoints: [...new Set(checkpoints)], omitNodes, modelLoadMs };
}
