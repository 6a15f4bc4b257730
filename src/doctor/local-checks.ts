/** Checks that need no ComfyUI: the Node.js runtime, the configuration, the output folder. */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig, type ComfyAuth, type Config } from '../config.js';
import { ComfywireError } from '../errors.js';
import { errorText, fail, ok, type DoctorCheck } from './types.js';

/** package.json "engines" (undici 7 needs 20.18.1). */
export const MIN_NODE = [20, 18, 1] as const;

export function checkNodeVersion(version: string = process.versions.node): DoctorCheck {
  const parts = version.split('.').map(Number);
  const tooOld = MIN_NODE.some((min, i) => {
    const earlier = MIN_NODE.slice(0, i).every((m, j) => parts[j] === m);
    return earlier && (parts[i] ?? 0) < min;
  });
  return tooOld
    ? fail('node', `Node.js ${version}`, `Install Node.js ${MIN_NODE.join('.')} or newer (an LTS release from nodejs.org, or \`nvm install 22\`).`)
    : ok('node', `Node.js ${version}`);
}

function describeAuth(auth: ComfyAuth): string {
  switch (auth.kind) {
    case 'none': return 'no auth';
    case 'bearer': return 'auth: bearer token';
    case 'basic': return `auth: basic (user ${auth.user})`;
    case 'header': return `auth: header ${auth.name}`;
  }
}

export function checkConfig(env: NodeJS.ProcessEnv, overrides: Record<string, string | undefined> = {}): { check: DoctorCheck; config?: Readonly<Config> } {
  try {
    const config = loadConfig(env, { overrides });
    const detail = `ComfyUI ${config.comfyUrl}; workflows ${config.workflowsDir}; outputs ${config.outputDir}; ${describeAuth(config.auth)}`;
    return { check: ok('config', detail), config };
  } catch (error) {
    const fix = error instanceof ComfywireError && error.hint ? error.hint : 'Fix the variable in your environment or .env file; .env.example documents each one.';
    return { check: fail('config', errorText(error), fix) };
  }
}

async function nearestExisting(dir: string): Promise<string> {
  for (let current = dir; ; current = dirname(current)) {
    try {
      await stat(current);
      return current;
    } catch {
      if (dirname(current) === current) return current;
    }
  }
}

/** Writes and removes a probe file; a folder that does not exist yet is judged by the folder it will be created in. */
export async function checkOutputWritable(outputDir: string): Promise<DoctorCheck> {
  const fix = `Make ${outputDir} writable by this user, or point COMFYWIRE_OUTPUT_DIR at a folder that is.`;
  const existing = await nearestExisting(outputDir);
  try {
    if (existing !== outputDir) {
      await access(existing, constants.W_OK);
      return ok('output folder', `${outputDir} (created on the first download, inside ${existing})`);
    }
    if (!(await stat(outputDir)).isDirectory()) return fail('output folder', `${outputDir} is a file, not a folder`, fix);
    const probe = join(outputDir, `.comfywire-doctor-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
    return ok('output folder', `${outputDir} is writable`);
  } catch (error) {
    return fail('output folder', `cannot write in ${existing}: ${errorText(error)}`, fix);
  }
}
