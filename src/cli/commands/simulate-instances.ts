import path from 'node:path';
import type { Logger } from '../../logger.js';
import type { InstanceOptions } from '../../simulator/fleet.js';
import { perInstance } from './simulate-lists.js';

/** The flags of `comfywire simulate` that shape the instances. */
export interface InstanceFlags {
  host: string;
  instances: number;
  stepDelay: number[];
  modelLoad: number[];
  checkpoints?: string[][];
  previews?: boolean;
  dataDir?: string;
  api?: '0.3.64' | 'latest';
  /** --custom-nodes: packs every instance has installed (VideoHelperSuite). */
  customNodes?: string[];
  /** COMFYWIRE_FFMPEG as config.ts read it: the ffmpeg the video nodes encode with. */
  ffmpeg?: string;
}

/**
 * The flags as one option set per instance. A list whose length is neither 1 nor --instances is
 * a usage error naming the flag. Several instances given --data-dir each get a folder in it
 * (host-1, host-2, ...): two ComfyUI hosts never share an output folder.
 */
export function instanceOptions(flags: InstanceFlags, logger?: Logger): InstanceOptions[] {
  const n = flags.instances;
  const stepDelays = perInstance('--step-delay', flags.stepDelay, n);
  const loads = perInstance('--model-load', flags.modelLoad, n);
  const checkpoints = flags.checkpoints ? perInstance('--checkpoints', flags.checkpoints, n) : undefined;
  return Array.from({ length: n }, (_, i) => ({
    host: flags.host,
    stepDelayMs: stepDelays[i],
    modelLoadMs: loads[i],
    ...(checkpoints ? { checkpoints: checkpoints[i] } : {}),
    ...(flags.api ? { api: flags.api } : {}),
    ...(flags.customNodes ? { customNodes: flags.customNodes } : {}),
    ...(flags.ffmpeg ? { ffmpeg: flags.ffmpeg } : {}),
    previewMethod: flags.previews ? 'auto' as const : 'none' as const,
    ...(flags.dataDir ? { dataDir: n === 1 ? flags.dataDir : path.join(flags.dataDir, `host-${i + 1}`) } : {}),
    ...(logger ? { logger } : {}),
  }));
}
