/**
 * What a client runs to start comfywire, chosen so the entry keeps working when things move:
 * - comfywire installed as a package with its bin on PATH: `comfywire serve`;
 * - `--npx`: `npx -y comfywire@<version> serve`, fetched by npx when missing;
 * - otherwise (a git checkout, a project's node_modules): `node <abs>/dist/comfywire.mjs serve`,
 *   tied to that folder, and the person is told so.
 * Never a path into npx's cache (`…/_npx/<hash>/…`), which npm evicts at will.
 */
import { existsSync, realpathSync } from 'node:fs';
import { delimiter as posixDelimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigInvalidError } from '../errors.js';
import type { ServerLaunch } from './clients.js';

export type LaunchKind = 'installed' | 'npx' | 'folder';

export interface ResolvedLaunch extends ServerLaunch {
  kind: LaunchKind;
  /** For `folder`: the comfywire folder the entry depends on. */
  folder?: string;
}

/** Running from npx's cache: an entry pointing there would break once npm clears it. */
export class NpxCacheLaunchError extends ConfigInvalidError {
  constructor(entryPoint: string, version: string) {
    super(`comfywire is running from npx's cache (${dirname(dirname(entryPoint))}), which npm clears at will: an entry pointing there would stop working.`, {
      hint:
        `Add --npx to register "npx -y comfywire@${version}" (npx fetches it again when needed), ` +
        'or install comfywire for good (npm i -g comfywire) and run `comfywire install`.',
      context: { option: '--npx' },
    });
    this.name = 'NpxCacheLaunchError';
  }
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

const real = (path: string): string | undefined => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/**
 * True when `comfywire` on PATH is this very file: npm links the bin to it on POSIX, and on
 * Windows writes a `comfywire.cmd` shim next to `node_modules/comfywire`.
 */
export function isOnPath(entryPoint: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): boolean {
  const self = real(entryPoint);
  if (!self) return false;
  const path = env['PATH'] ?? env['Path'] ?? '';
  return path.split(platform === 'win32' ? ';' : posixDelimiter).some((dir) => {
    if (dir === '') return false;
    if (platform === 'win32') return existsSync(join(dir, 'comfywire.cmd')) && real(join(dir, 'node_modules', 'comfywire', 'dist', 'comfywire.mjs')) === self;
    return real(join(dir, 'comfywire')) === self;
  });
}

/** On Windows a client spawns without a shell, which finds neither `npx.cmd` nor `comfywire.cmd`. */
const viaShell = (platform: NodeJS.Platform, command: string, args: string[]): ServerLaunch =>
  platform === 'win32' ? { command: 'cmd', args: ['/c', command, ...args] } : { command, args };

export function resolveLaunch(options: { npx: boolean; entryPoint: string; version: string; env: NodeJS.ProcessEnv; platform: NodeJS.Platform }): ResolvedLaunch {
  const { entryPoint, platform } = options;
  if (options.npx) return { kind: 'npx', ...viaShell(platform, 'npx', ['-y', `comfywire@${options.version}`, 'serve']) };
  if (entryPoint.split(/[\\/]/).includes('_npx')) throw new NpxCacheLaunchError(entryPoint, options.version);
  if (isOnPath(entryPoint, options.env, platform)) return { kind: 'installed', ...viaShell(platform, 'comfywire', ['serve']) };
  const folder = dirname(dirname(entryPoint));
  return { kind: 'folder', command: 'node', args: [entryPoint, 'serve'], folder: folder.endsWith(sep) ? folder.slice(0, -1) : folder };
}
