/**
 * What a client runs to start comfywire: `node <this installation>/dist/comfywire.mjs serve`,
 * with the settings that make it reach the same ComfyUI as the person running `install`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { ServerLaunch } from './clients.js';

/** Carried over from the environment or .env: where ComfyUI is and where files live. */
export const CARRIED_SETTINGS = ['COMFYUI_URL', 'COMFYWIRE_WORKFLOWS_DIR', 'COMFYWIRE_OUTPUT_DIR', 'COMFYWIRE_DEFAULT_WORKFLOW', 'COMFYWIRE_UPLOAD_DIRS'] as const;
/** Never copied implicitly: a project config file is often committed. `--env` writes them on request. */
export const SECRET_SETTINGS = ['COMFYUI_AUTH_TOKEN', 'COMFYUI_AUTH_BASIC', 'COMFYUI_AUTH_HEADER_NAME', 'COMFYUI_AUTH_HEADER_VALUE'] as const;
/** A client starts the server in a folder of its choosing, so relative folders are pinned to absolute ones. */
const PATH_SETTINGS = new Set(['COMFYWIRE_WORKFLOWS_DIR', 'COMFYWIRE_OUTPUT_DIR', 'COMFYWIRE_UPLOAD_DIRS']);

function absolutePaths(value: string, cwd: string): string {
  return value.split(delimiter).map((p) => (p.trim() === '' || isAbsolute(p.trim()) ? p.trim() : resolve(cwd, p.trim()))).join(delimiter);
}

/**
 * The bundled CLI, dist/comfywire.mjs (the package's bin, and the fastest to start). This module
 * runs inside that bundle (dist/), from dist/src/install/ (tsc output) or from src/install/ (tests).
 */
export function cliEntryPoint(): string {
  const candidates = ['./comfywire.mjs', '../../comfywire.mjs', '../../dist/comfywire.mjs'].map((rel) => new URL(rel, import.meta.url));
  const found = candidates.find((url) => existsSync(url)) ?? candidates[0]!;
  return fileURLToPath(found);
}

function readDotEnv(cwd: string): Record<string, string> {
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return {};
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    return {}; // loadConfig reports a broken .env; install only borrows from it
  }
}

export interface LaunchPlan {
  launch: ServerLaunch;
  /** Secret settings found in the environment but not written. */
  secretsLeftOut: string[];
}

export function serverLaunch(options: { explicitEnv: Record<string, string>; env: NodeJS.ProcessEnv; cwd: string }): LaunchPlan {
  const fromFile = readDotEnv(options.cwd);
  const env: Record<string, string> = {};
  for (const name of CARRIED_SETTINGS) {
    const value = (options.env[name] ?? fromFile[name])?.trim();
    if (!value) continue;
    env[name] = PATH_SETTINGS.has(name) ? absolutePaths(value, options.cwd) : value;
  }
  Object.assign(env, options.explicitEnv);
  const secretsLeftOut = SECRET_SETTINGS.filter((n) => !(n in env) && !!(options.env[n] ?? fromFile[n])?.trim());
  return { launch: { command: 'node', args: [cliEntryPoint(), 'serve'], env }, secretsLeftOut };
}
