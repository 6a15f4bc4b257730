import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { callLogFromConfig, type CallLog } from '../call-log/call-log.js';
import { loadConfig, type Config } from '../config.js';
import { Fleet } from '../fleet/fleet.js';
import type { Logger } from '../logger.js';
import type { Redactor } from '../redact.js';
import { createRuntimeBase, type RuntimeBase } from './runtime-base.js';
import type { Simulator } from '../simulator/index.js';

/**
 * Builds what a command needs: configuration, a logger on stderr, an engine — and, with
 * `--simulate` (or when no ComfyUI is configured and none answers at the default address), the
 * embedded simulator on a free loopback port, so a new user sees the whole flow without a GPU.
 */
export interface Runtime {
  config: Readonly<Config>;
  logger: Logger;
  /** Every configured ComfyUI host (one, or several: src/fleet/). */
  engine: Fleet;
  simulator: Simulator | undefined;
  /** Masks the configured secrets in any text this command writes (the logger already applies it). */
  redact: Redactor;
  /** The call log (file and/or PostgreSQL), undefined when both are off. */
  calls: CallLog | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  simulate?: boolean;
  /** Fall back to the simulator when COMFYUI_URL is unset and the default address is dead. */
  autoSimulate?: boolean;
  quiet?: boolean;
  overrides?: Record<string, string | undefined>;
  /** Configuration and logger made already (the stdio server makes them before its first answer). */
  base?: RuntimeBase;
}

/** True when the user named a ComfyUI (environment or .env), as opposed to relying on the default. */
export function comfyUrlConfigured(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): boolean {
  const named = (vars: Record<string, string | undefined>): boolean => HOST_VARIABLES.some((k) => !!vars[k]?.trim());
  if (named(env)) return true;
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return false;
  try {
    return named(parseEnv(readFileSync(file, 'utf8')) as Record<string, string>);
  } catch {
    return false;
  }
}

/** The variables that name ComfyUI hosts (one, a list, a file). */
const HOST_VARIABLES = ['COMFYUI_URL', 'COMFYUI_URLS', 'COMFYWIRE_HOSTS_FILE'];

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`${url}/system_stats`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const base = options.base ?? createRuntimeBase(options);
  let { config } = base;
  const { redact, logger } = base;
  let simulate = options.simulate === true;
  if (!simulate && options.autoSimulate && !comfyUrlConfigured()) {
    if (!(await answers(config.comfyUrl, 1500))) {
      logger.warn(
        `No COMFYUI_URL is configured and nothing answers at ${config.comfyUrl}: using the embedded simulator. ` +
          'Set COMFYUI_URL (environment or .env) to use your ComfyUI.',
      );
      simulate = true;
    }
  }
  let simulator: Simulator | undefined;
  if (simulate) {
    // Loaded only when used: the simulator's node set and object_info cost start-up time.
    const { startSimulator } = await import('../simulator/index.js');
    simulator = await startSimulator({ port: 0, logger });
    // The simulator replaces whatever hosts were configured.
    config = loadConfig(process.env, {
      overrides: { ...options.overrides, COMFYUI_URL: simulator.url, COMFYUI_URLS: undefined, COMFYWIRE_HOSTS_FILE: undefined },
    });
    logger.info(`embedded simulator listening on ${simulator.url}`);
  }
  const engine = new Fleet({ config, logger });
  const calls = callLogFromConfig(config, logger);
  return {
    config,
    logger,
    engine,
    simulator,
    redact,
    calls,
    async close() {
      await engine.close();
      await simulator?.close();
      // Last: closing the engine ends the jobs still followed, and their ends are logged.
      await calls?.close();
    },
  };
}
