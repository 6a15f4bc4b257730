import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, parse, resolve } from 'node:path';
import { homedir } from 'node:os';
import { parseEnv } from 'node:util';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigInvalidError } from './errors.js';
import { redactUrls } from './redact.js';
import { bareUrl, hostPortName, hostsFromUrls, isHttpUrl, readHostsFile, urlCredentials, type HostSpec } from './fleet/hosts.js';

/**
 * Configuration is read once, from the environment and an optional `.env` file, validated
 * with zod and frozen. Every variable is documented in `.env.example`; an invalid value stops
 * the program with a message that names the variable and says how to fix it.
 */

/** From src/config.ts and from dist/src/config.js alike, the shipped templates are two folders up. */
const SHIPPED_WORKFLOWS = existsSync(new URL('../workflows', import.meta.url)) ? '../workflows' : '../../workflows';

const positiveMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const EnvSchema = z
  .object({
    COMFYUI_URL: z
      .string()
      .default('http://127.0.0.1:8188')
      .refine(isHttpUrl, 'must be an http:// or https:// URL such as http://127.0.0.1:8188'),
    // Several hosts: a comma-separated list (sharing the auth below) or a JSON hosts file (src/fleet/hosts.ts).
    COMFYUI_URLS: optionalText,
    COMFYWIRE_HOSTS_FILE: optionalText,
    COMFYWIRE_FAILOVER: z.enum(['off', 'requeue']).default('requeue'),
    COMFYUI_AUTH_TOKEN: optionalText,
    COMFYUI_AUTH_BASIC: optionalText.refine((v) => v === undefined || v.includes(':'), 'must be "user:password"'),
    COMFYUI_AUTH_HEADER_NAME: optionalText.refine(
      (v) => v === undefined || /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(v),
      'must be a valid HTTP header name such as X-Api-Key',
    ),
    COMFYUI_AUTH_HEADER_VALUE: optionalText,
    COMFYWIRE_WORKFLOWS_DIR: optionalText,
    COMFYWIRE_OUTPUT_DIR: optionalText,
    COMFYWIRE_DEFAULT_WORKFLOW: z.string().default('sd15-txt2img'),
    COMFYWIRE_CLIENT_ID: optionalText,
    COMFYWIRE_REQUEST_TIMEOUT_MS: positiveMs(30_000),
    COMFYWIRE_JOB_TIMEOUT_MS: positiveMs(30 * 60_000),
    COMFYWIRE_STALL_TIMEOUT_MS: positiveMs(45_000),
    COMFYWIRE_PING_INTERVAL_MS: positiveMs(15_000),
    COMFYWIRE_TOOL_WAIT_S: z.coerce.number().positive().max(3600).default(50),
    COMFYWIRE_RECENT_JOBS: z.coerce.number().int().min(1).max(100_000).default(200),
    COMFYWIRE_HTTP_HOST: z.string().default('127.0.0.1'),
    COMFYWIRE_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8765),
    COMFYWIRE_HTTP_TOKEN: optionalText,
    COMFYWIRE_UPLOAD_DIRS: optionalText,
    COMFYWIRE_FEED: z.enum(['on', 'off']).default('on'),
    // The video decoder for poster frames and durations (src/media/ffmpeg.ts): a path, or `off`; unset: `ffmpeg` on PATH.
    COMFYWIRE_FFMPEG: optionalText,
    COMFYWIRE_LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    // Safety limits (see .env.example); 0 turns a rate or a cap off where that is allowed.
    COMFYWIRE_MAX_PROMPT_CHARS: z.coerce.number().int().min(1).max(1_000_000).default(4000),
    COMFYWIRE_GENERATE_RATE_PER_MIN: z.coerce.number().min(0).max(100_000).default(10),
    COMFYWIRE_GENERATE_BURST: z.coerce.number().int().min(1).max(100_000).default(5),
    COMFYWIRE_READ_RATE_PER_MIN: z.coerce.number().min(0).max(1_000_000).default(600),
    COMFYWIRE_READ_BURST: z.coerce.number().int().min(1).max(1_000_000).default(60),
    COMFYWIRE_MAX_ACTIVE_JOBS: z.coerce.number().int().min(0).max(100_000).default(20),
    COMFYWIRE_UPLOAD_MAX_MB: z.coerce.number().positive().max(10_000).default(25),
    COMFYWIRE_DOWNLOAD_MAX_MB: z.coerce.number().positive().max(100_000).default(512),
    COMFYWIRE_DOWNLOAD_TIMEOUT_MS: positiveMs(10 * 60_000),
    COMFYWIRE_DOWNLOAD_MIN_KBPS: z.coerce.number().min(0).max(10_000_000).default(16),
    COMFYWIRE_HTTP_MAX_SESSIONS: z.coerce.number().int().min(1).max(100_000).default(32),
    COMFYWIRE_HTTP_SESSION_IDLE_MS: positiveMs(30 * 60_000),
    // The call log: one JSON line per tool call and CLI job.
    COMFYWIRE_STATE_DIR: optionalText,
    COMFYWIRE_CALL_LOG: optionalText,
    COMFYWIRE_CALL_LOG_MAX_MB: z.coerce.number().positive().max(10_000).default(10),
    COMFYWIRE_CALL_LOG_FILES: z.coerce.number().int().min(1).max(1000).default(5),
    DATABASE_URL: optionalText.refine(
      (v) => v === undefined || /^postgres(ql)?:\/\//.test(v),
      'must be a PostgreSQL URL such as postgres://user:password@127.0.0.1:5432/comfywire',
    ),
  })
  .superRefine((env, ctx) => {
    const others = ['COMFYUI_AUTH_TOKEN', 'COMFYUI_AUTH_BASIC', 'COMFYUI_AUTH_HEADER_NAME'] as const;
    const also = others.filter((k) => env[k] !== undefined);
    if (urlCredentials(env.COMFYUI_URL) && also.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['COMFYUI_URL'],
        message:
          `carries credentials (user:password@) while ${also.join(', ')} is also set; comfywire sends one auth style: ` +
          `remove the credentials from COMFYUI_URL (and put them in COMFYUI_AUTH_BASIC=user:password), or unset ${also.join(', ')}`,
      });
    }
    if (env.COMFYUI_URLS !== undefined && env.COMFYWIRE_HOSTS_FILE !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['COMFYWIRE_HOSTS_FILE'],
        message: 'and COMFYUI_URLS are both set: list the hosts in one place (the hosts file can name each host and give it auth, weight and tags)',
      });
    }
    const hasName = env.COMFYUI_AUTH_HEADER_NAME !== undefined;
    const hasValue = env.COMFYUI_AUTH_HEADER_VALUE !== undefined;
    if (hasName !== hasValue) {
      ctx.addIssue({
        code: 'custom',
        path: [hasName ? 'COMFYUI_AUTH_HEADER_VALUE' : 'COMFYUI_AUTH_HEADER_NAME'],
        message: 'COMFYUI_AUTH_HEADER_NAME and COMFYUI_AUTH_HEADER_VALUE must be set together',
      });
    }
  });

/** Every variable comfywire reads (README's configuration table and .env.example list the same set). */
export const ENV_VARIABLES: readonly string[] = Object.freeze(Object.keys(EnvSchema.shape));

export type ComfyAuth =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'header'; name: string; value: string };

export interface Config {
  /** The first host's address and auth (the only ones with one host): what single-server code paths use. */
  comfyUrl: string;
  auth: ComfyAuth;
  /** Every ComfyUI host, in the order configured; at least one. */
  hosts: readonly HostSpec[];
  /** What happens to a job that had not started on a host that lost its queue (docs/ARCHITECTURE.md, Fleet). */
  failover: 'off' | 'requeue';
  workflowsDir: string;
  outputDir: string;
  defaultWorkflow: string;
  /** Fixed for the whole process: ComfyUI routes a prompt's events to the socket with this id. */
  clientId: string;
  requestTimeoutMs: number;
  jobTimeoutMs: number;
  stallTimeoutMs: number;
  pingIntervalMs: number;
  toolWaitS: number;
  recentJobs: number;
  http: { host: string; port: number; token: string | undefined };
  /** Extra folders whose files upload_image / input_image may send (besides cwd and outputDir). */
  uploadDirs: readonly string[];
  feed: boolean;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** COMFYWIRE_FFMPEG: the ffmpeg for video poster frames (an absolute path), `off`, or undefined: `ffmpeg` on PATH. */
  ffmpeg: string | undefined;
  limits: Limits;
  /** Per-user folder for state that outlives a process (the call log). */
  stateDir: string;
  /** JSON-lines call log; undefined when COMFYWIRE_CALL_LOG=off. */
  callLog: { file: string; maxBytes: number; maxFiles: number } | undefined;
  /** PostgreSQL sink for the call log, when DATABASE_URL is set. */
  databaseUrl: string | undefined;
}

/** What a caller may ask of comfywire; every figure is configurable (see .env.example). */
export interface Limits {
  /** Longest prompt (or other free text parameter), in characters after NFC normalisation. */
  promptChars: number;
  /** Token buckets per tool class: refill per minute (0 = no limit) and burst size. */
  generateRate: { perMinute: number; burst: number };
  readRate: { perMinute: number; burst: number };
  /** Generation jobs this process may have submitted and not yet seen end (0 = no cap). */
  maxActiveJobs: number;
  uploadMaxBytes: number;
  downloadMaxBytes: number;
  /** Deadline for one output file, and the least average throughput once it has started (0 = none). */
  downloadTimeoutMs: number;
  downloadMinBytesPerS: number;
  httpMaxSessions: number;
  httpSessionIdleMs: number;
}

export interface LoadConfigOptions {
  /** Path of a .env file; defaults to `.env` in the working directory. Missing file = no values. */
  envFile?: string;
  cwd?: string;
  overrides?: Record<string, string | undefined>;
}

/** Values from the real environment win over the .env file, as with every dotenv tool. */
/** COMFYWIRE_FFMPEG as comfywire uses it: `off`, an absolute path (relative to cwd), or undefined (look it up). */
export function ffmpegSetting(value: string | undefined, cwd: string = process.cwd()): string | undefined {
  return value ? (value === 'off' ? 'off' : resolve(cwd, value)) : undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Readonly<Config> {
  const cwd = options.cwd ?? process.cwd();
  const envFile = resolve(cwd, options.envFile ?? '.env');
  let fromFile: Record<string, string> = {};
  if (existsSync(envFile)) {
    try {
      fromFile = parseEnv(readFileSync(envFile, 'utf8')) as Record<string, string>;
    } catch (cause) {
      throw new ConfigInvalidError(`Could not read ${envFile}.`, {
        cause,
        hint: 'Each line must be NAME=value; see .env.example.',
      });
    }
  }
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  Object.assign(merged, options.overrides ?? {});
  rejectUnexpandedReferences(merged);

  const parsed = EnvSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'configuration');
      return `  ${name}=${shownValue(name, merged[name])}: ${issue.message}`;
    });
    throw new ConfigInvalidError(`Invalid configuration:\n${lines.join('\n')}`, {
      hint: 'Fix the variable in your environment or .env file; .env.example documents each one.',
    });
  }
  const e = parsed.data;
  const stateDir = e.COMFYWIRE_STATE_DIR ? resolve(cwd, e.COMFYWIRE_STATE_DIR) : defaultStateDir(merged);
  const hosts = hostsFrom(e, cwd);
  const config: Config = {
    comfyUrl: hosts[0]!.url,
    auth: hosts[0]!.auth,
    hosts: Object.freeze(hosts),
    failover: e.COMFYWIRE_FAILOVER,
    workflowsDir: e.COMFYWIRE_WORKFLOWS_DIR ? resolve(cwd, e.COMFYWIRE_WORKFLOWS_DIR) : defaultWorkflowsDir(cwd),
    outputDir: e.COMFYWIRE_OUTPUT_DIR ? resolve(cwd, e.COMFYWIRE_OUTPUT_DIR) : defaultOutputDir(cwd, merged),
    defaultWorkflow: e.COMFYWIRE_DEFAULT_WORKFLOW,
    clientId: e.COMFYWIRE_CLIENT_ID ?? randomUUID(),
    requestTimeoutMs: e.COMFYWIRE_REQUEST_TIMEOUT_MS,
    jobTimeoutMs: e.COMFYWIRE_JOB_TIMEOUT_MS,
    stallTimeoutMs: e.COMFYWIRE_STALL_TIMEOUT_MS,
    pingIntervalMs: e.COMFYWIRE_PING_INTERVAL_MS,
    toolWaitS: e.COMFYWIRE_TOOL_WAIT_S,
    recentJobs: e.COMFYWIRE_RECENT_JOBS,
    http: { host: e.COMFYWIRE_HTTP_HOST, port: e.COMFYWIRE_HTTP_PORT, token: e.COMFYWIRE_HTTP_TOKEN },
    uploadDirs: Object.freeze(
      (e.COMFYWIRE_UPLOAD_DIRS ?? '')
        .split(delimiter)
        .filter((d) => d.trim() !== '')
        .map((d) => resolve(cwd, d.trim())),
    ),
    feed: e.COMFYWIRE_FEED === 'on',
    logLevel: e.COMFYWIRE_LOG_LEVEL,
    ffmpeg: ffmpegSetting(e.COMFYWIRE_FFMPEG, cwd),
    limits: {
      promptChars: e.COMFYWIRE_MAX_PROMPT_CHARS,
      generateRate: { perMinute: e.COMFYWIRE_GENERATE_RATE_PER_MIN, burst: e.COMFYWIRE_GENERATE_BURST },
      readRate: { perMinute: e.COMFYWIRE_READ_RATE_PER_MIN, burst: e.COMFYWIRE_READ_BURST },
      maxActiveJobs: e.COMFYWIRE_MAX_ACTIVE_JOBS,
      uploadMaxBytes: Math.round(e.COMFYWIRE_UPLOAD_MAX_MB * MB),
      downloadMaxBytes: Math.round(e.COMFYWIRE_DOWNLOAD_MAX_MB * MB),
      downloadTimeoutMs: e.COMFYWIRE_DOWNLOAD_TIMEOUT_MS,
      downloadMinBytesPerS: Math.round(e.COMFYWIRE_DOWNLOAD_MIN_KBPS * 1024),
      httpMaxSessions: e.COMFYWIRE_HTTP_MAX_SESSIONS,
      httpSessionIdleMs: e.COMFYWIRE_HTTP_SESSION_IDLE_MS,
    },
    stateDir,
    callLog:
      e.COMFYWIRE_CALL_LOG?.toLowerCase() === 'off'
        ? undefined
        : {
            file: resolve(cwd, e.COMFYWIRE_CALL_LOG ?? join(stateDir, 'calls.jsonl')),
            maxBytes: Math.round(e.COMFYWIRE_CALL_LOG_MAX_MB * MB),
            maxFiles: e.COMFYWIRE_CALL_LOG_FILES,
          },
    databaseUrl: e.DATABASE_URL,
  };
  Object.freeze(config.limits.generateRate);
  Object.freeze(config.limits.readRate);
  Object.freeze(config.limits);
  if (config.callLog) Object.freeze(config.callLog);
  Object.freeze(config.http);
  Object.freeze(config.auth);
  return Object.freeze(config);
}

/** `${NAME}`, `${env:NAME}`, `${input:id}`, `${NAME:-default}`: how MCP client configs refer to values. */
const CLIENT_REFERENCE = /^\$\{(?:env:|input:)?([A-Za-z_][A-Za-z0-9_-]*)(?::-[^}]*)?\}$/;

/**
 * An entry written by `comfywire install` refers to secrets; a client that finds no such
 * variable passes the reference on as text. Sent as a token it would only earn an HTTP 401.
 */
function rejectUnexpandedReferences(vars: Record<string, string | undefined>): void {
  for (const name of ['COMFYUI_URL', 'COMFYUI_URLS', 'COMFYWIRE_HOSTS_FILE', 'COMFYUI_AUTH_TOKEN', 'COMFYUI_AUTH_BASIC', 'COMFYUI_AUTH_HEADER_VALUE', 'COMFYWIRE_HTTP_TOKEN', 'DATABASE_URL']) {
    const match = CLIENT_REFERENCE.exec(vars[name]?.trim() ?? '');
    if (!match) continue;
    throw new ConfigInvalidError(`${name} is the unexpanded reference ${match[0]}: the MCP client that started comfywire had no value for it.`, {
      hint: `Set ${match[1]} in the environment the client is started from and restart the client, or run \`comfywire install\` again with --env ${name}=<value>.`,
      context: { variable: name },
    });
  }
}

const MB = 1024 * 1024;

/**
 * The per-user state folder, by each platform's convention: $XDG_STATE_HOME/comfywire (else
 * ~/.local/state/comfywire) on Linux and other Unixes, ~/Library/Application Support/comfywire
 * on macOS, %LOCALAPPDATA%\\comfywire on Windows.
 */
export function defaultStateDir(env: Record<string, string | undefined>, platform = process.platform): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'comfywire');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'comfywire');
  const xdg = env.XDG_STATE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state'), 'comfywire');
}

/**
 * The per-user data folder for outputs: $XDG_DATA_HOME/comfywire (else ~/.local/share/comfywire)
 * on Linux and other Unixes, ~/Library/Application Support/comfywire on macOS,
 * %LOCALAPPDATA%\\comfywire on Windows.
 */
export function defaultDataDir(env: Record<string, string | undefined>, platform = process.platform): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'comfywire');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'comfywire');
  const xdg = env.XDG_DATA_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'share'), 'comfywire');
}

/**
 * Where outputs go when COMFYWIRE_OUTPUT_DIR is unset. A project folder with a `shared/` folder
 * (the comfywire checkout, or a project that keeps its generated files there) gets
 * `./shared/outputs`, next to its work. Anywhere else, and always in the home folder or at a
 * filesystem root, outputs go to `<user data folder>/outputs`: an MCP client starts the server
 * in whatever folder it likes, and that must not leave `shared/` folders behind.
 */
export function defaultOutputDir(cwd: string, env: Record<string, string | undefined>, platform = process.platform): string {
  const here = resolve(cwd);
  const projectShared = join(here, 'shared');
  const special = here === resolve(homedir()) || here === parse(here).root;
  if (!special && isDirectory(projectShared)) return join(projectShared, 'outputs');
  return join(defaultDataDir(env, platform), 'outputs');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `./workflows` when the working directory has one (a project of the user's), otherwise the
 * templates shipped with comfywire, so an installed CLI works from any folder.
 */
function defaultWorkflowsDir(cwd: string): string {
  const local = resolve(cwd, 'workflows');
  if (existsSync(local)) return local;
  return fileURLToPath(new URL(SHIPPED_WORKFLOWS, import.meta.url));
}

/** Variables whose value is a secret: an error says that one is set, never what it is. */
const SECRET_VARIABLES = new Set(['COMFYUI_AUTH_TOKEN', 'COMFYUI_AUTH_BASIC', 'COMFYUI_AUTH_HEADER_VALUE', 'COMFYWIRE_HTTP_TOKEN']);
/** A quoted bad value is cut here: the message names the variable, the value only reminds. */
const SHOWN_VALUE_CHARS = 120;

function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return '(unset)';
  if (SECRET_VARIABLES.has(name)) return `(set, ${value.length} characters, not shown)`;
  const safe = redactUrls(value);
  return JSON.stringify(safe.length > SHOWN_VALUE_CHARS ? `${safe.slice(0, SHOWN_VALUE_CHARS)}…` : safe);
}

/** One host from COMFYUI_URL, else those of COMFYUI_URLS or the hosts file (which the schema keeps exclusive). */
function hostsFrom(e: z.infer<typeof EnvSchema>, cwd: string): HostSpec[] {
  if (e.COMFYWIRE_HOSTS_FILE) return readHostsFile(e.COMFYWIRE_HOSTS_FILE, cwd);
  if (e.COMFYUI_URLS) return hostsFromUrls(e.COMFYUI_URLS, authFrom({ ...e, COMFYUI_URL: 'http://x' }));
  return [{ name: hostPortName(e.COMFYUI_URL), url: bareUrl(e.COMFYUI_URL), auth: authFrom(e), weight: 1, tags: [], drain: false }];
}

function authFrom(e: z.infer<typeof EnvSchema>): ComfyAuth {
  // Refused with any other style by the schema, so this one is the only one set.
  const fromUrl = urlCredentials(e.COMFYUI_URL);
  if (fromUrl) return { kind: 'basic', ...fromUrl };
  if (e.COMFYUI_AUTH_TOKEN) return { kind: 'bearer', token: e.COMFYUI_AUTH_TOKEN };
  if (e.COMFYUI_AUTH_BASIC) {
    const i = e.COMFYUI_AUTH_BASIC.indexOf(':');
    return { kind: 'basic', user: e.COMFYUI_AUTH_BASIC.slice(0, i), password: e.COMFYUI_AUTH_BASIC.slice(i + 1) };
  }
  if (e.COMFYUI_AUTH_HEADER_NAME && e.COMFYUI_AUTH_HEADER_VALUE) {
    return { kind: 'header', name: e.COMFYUI_AUTH_HEADER_NAME, value: e.COMFYUI_AUTH_HEADER_VALUE };
  }
  return { kind: 'none' };
}

/** Headers that carry the configured auth; used for HTTP requests and the WebSocket upgrade alike. */
export function authHeaders(auth: ComfyAuth): Record<string, string> {
  switch (auth.kind) {
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` };
    case 'header':
      return { [auth.name.toLowerCase()]: auth.value };
    case 'none':
      return {};
  }
}
