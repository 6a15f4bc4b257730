/**
 * The environment an entry gives the server: the settings that make it reach the same ComfyUI as
 * the person running `install`, and references (never values) for secrets, unless they ask for
 * plain text.
 *
 * A project-bound entry (Claude Code local, any project or workspace file) borrows from the
 * environment and the project's `.env`, with relative folders pinned to absolute ones (a client
 * starts the server in a folder of its choosing). A user-wide entry serves every project, so it
 * takes neither this project's `.env` nor its folders: only `--env` and plain settings exported
 * in the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigInvalidError } from '../errors.js';
import type { ClientTarget, SecretReference } from './clients.js';

/** Secrets: written as references to the environment or a VS Code input. */
export const SECRET_SETTINGS = {
  COMFYUI_AUTH_TOKEN: 'bearer token for the proxy in front of ComfyUI',
  COMFYUI_AUTH_BASIC: 'user:password for the proxy in front of ComfyUI',
  COMFYUI_AUTH_HEADER_VALUE: 'value of the custom auth header for ComfyUI',
  COMFYWIRE_HTTP_TOKEN: 'bearer token of comfywire serve --http',
  DATABASE_URL: 'database URL (with its password)',
} as const;
type SecretName = keyof typeof SECRET_SETTINGS;
export const isSecret = (name: string): name is SecretName => Object.hasOwn(SECRET_SETTINGS, name);

/** Found in the environment or .env and carried over without being asked for. */
const CARRIED = ['COMFYUI_URL', 'COMFYUI_AUTH_HEADER_NAME', 'COMFYWIRE_DEFAULT_WORKFLOW', 'COMFYWIRE_WORKFLOWS_DIR', 'COMFYWIRE_OUTPUT_DIR', 'COMFYWIRE_UPLOAD_DIRS'] as const;
/** The secrets that are comfywire's alone, so they are carried (as references) too. */
const CARRIED_SECRETS: SecretName[] = ['COMFYUI_AUTH_TOKEN', 'COMFYUI_AUTH_BASIC', 'COMFYUI_AUTH_HEADER_VALUE'];
const PATH_SETTINGS = new Set(['COMFYWIRE_WORKFLOWS_DIR', 'COMFYWIRE_OUTPUT_DIR', 'COMFYWIRE_UPLOAD_DIRS']);

export interface SettingsRequest {
  /** `--env` pairs, in the order given. */
  explicitEnv: Record<string, string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  allowPlaintextSecrets: boolean;
}

export interface ServerSettings {
  env: Record<string, string>;
  /** VS Code inputs the env refers to. */
  inputs: NonNullable<SecretReference['input']>[];
  /** Secrets written as references: what the person has to provide, and where. */
  referenced: string[];
  /** Secrets written in plain text (only with --allow-plaintext-secrets). */
  plaintext: string[];
  /** Found but not written, with the reason. */
  leftOut: Array<{ name: string; why: string }>;
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

function absolutePaths(value: string, cwd: string): string {
  return value.split(delimiter).map((p) => (p.trim() === '' || isAbsolute(p.trim()) ? p.trim() : resolve(cwd, p.trim()))).join(delimiter);
}

/** `http://user:pw@host` carries a password: split into the URL and COMFYUI_AUTH_BASIC, as loadConfig does. */
function splitCredentials(url: string): { url: string; basic?: string } {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return { url };
    const basic = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    parsed.username = '';
    parsed.password = '';
    return { url: parsed.href.replace(/\/$/, ''), basic };
  } catch {
    return { url };
  }
}

export function serverSettings(target: ClientTarget, request: SettingsRequest): ServerSettings {
  const projectBound = target.scope !== 'user';
  const fromFile = projectBound ? readDotEnv(request.cwd) : {};
  const plain = new Map<string, string>();
  const secrets = new Map<string, string>();
  const leftOut: ServerSettings['leftOut'] = [];

  for (const name of CARRIED) {
    const value = (request.env[name] ?? fromFile[name])?.trim();
    if (!value) continue;
    if (PATH_SETTINGS.has(name) && !projectBound) {
      leftOut.push({ name, why: 'a folder of this project, not for a user-wide entry (pass --env NAME=/absolute/path to set one)' });
      continue;
    }
    plain.set(name, PATH_SETTINGS.has(name) ? absolutePaths(value, request.cwd) : value);
  }
  for (const name of CARRIED_SECRETS) {
    const value = (request.env[name] ?? fromFile[name])?.trim();
    if (value) secrets.set(name, value);
  }
  if (!projectBound && existsSync(resolve(request.cwd, '.env'))) {
    leftOut.push({ name: '.env', why: "this project's .env is not copied into a user-wide entry" });
  }
  for (const [name, value] of Object.entries(request.explicitEnv)) {
    if (isSecret(name)) secrets.set(name, value);
    else plain.set(name, PATH_SETTINGS.has(name) ? absolutePaths(value, request.cwd) : value);
  }
  const url = plain.get('COMFYUI_URL');
  if (url) {
    const split = splitCredentials(url);
    if (split.basic !== undefined) {
      if (secrets.has('COMFYUI_AUTH_BASIC')) {
        throw new ConfigInvalidError('COMFYUI_URL carries user:password while COMFYUI_AUTH_BASIC is set too.', {
          hint: 'Keep one of them (comfywire refuses both at start-up as well).',
          context: { option: '--env' },
        });
      }
      plain.set('COMFYUI_URL', split.url);
      secrets.set('COMFYUI_AUTH_BASIC', split.basic);
    }
  }

  const env: Record<string, string> = Object.fromEntries(plain);
  const inputs: ServerSettings['inputs'] = [];
  const referenced: string[] = [];
  const plaintext: string[] = [];
  for (const [name, value] of secrets) {
    if (request.allowPlaintextSecrets) {
      env[name] = value;
      plaintext.push(name);
      continue;
    }
    const reference = target.secretReference(name, `${name} for comfywire: ${isSecret(name) ? SECRET_SETTINGS[name] : 'secret'}`);
    env[name] = reference.value;
    if (reference.input) inputs.push(reference.input);
    referenced.push(name);
  }
  return { env, inputs, referenced, plaintext, leftOut };
}
