import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { ComfyAuth } from '../config.js';
import { ConfigInvalidError } from '../errors.js';

/**
 * The ComfyUI servers comfywire drives: one from COMFYUI_URL, several from COMFYUI_URLS
 * (comma-separated, sharing the COMFYUI_AUTH_* settings) or from a hosts file
 * (COMFYWIRE_HOSTS_FILE, JSON) where each host has its own name, auth, weight and tags.
 * Validated once at start: a bad entry stops the program with the entry and the fix named.
 */

export interface HostSpec {
  /** How statuses, tools and `--host` name it: the file's `name`, else `host:port` of its URL. */
  name: string;
  /** Without credentials and trailing slash. */
  url: string;
  auth: ComfyAuth;
  /** Relative capacity (a host twice as fast may say 2): its expected wait is divided by it. */
  weight: number;
  tags: readonly string[];
  /** Out of rotation: connected and shown, its jobs followed, but sent new jobs only when pinned. */
  drain: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const TAG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** user and password from `http://user:password@host` (decoded), when the URL has them. */
export function urlCredentials(url: string): { user: string; password: string } | undefined {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return undefined;
    return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } catch {
    return undefined;
  }
}

/** The URL without its userinfo and trailing slashes: credentials travel in a header, never in an address we print. */
export function bareUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.href.replace(/\/+$/, '');
}

/** `host:port` of a URL (the default port of its scheme when it names none). */
export function hostPortName(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname}:${port}`;
}

const AuthSchema = z.union([
  z.object({ bearer: z.string().min(1) }).strict(),
  z.object({ basic: z.string().regex(/:/, 'must be "user:password"') }).strict(),
  z
    .object({
      header: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name such as X-Api-Key'),
      value: z.string().min(1),
    })
    .strict(),
]);

const HostEntrySchema = z
  .object({
    name: z.string().regex(NAME, 'must be 1-64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit'),
    url: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL such as http://10.0.0.2:8188'),
    auth: AuthSchema.optional(),
    weight: z.number().positive().max(1000).default(1),
    tags: z.array(z.string().regex(TAG, 'a tag is 1-64 letters, digits, ".", "_" or "-"')).max(32).default([]),
    drain: z.boolean().default(false),
  })
  .strict();

const HostsFileSchema = z.union([z.array(HostEntrySchema), z.object({ hosts: z.array(HostEntrySchema) }).strict()]);

function authOf(entry: z.infer<typeof AuthSchema> | undefined, url: string): ComfyAuth {
  const fromUrl = urlCredentials(url);
  if (fromUrl && entry) throw new Error('has credentials in its url and an auth entry: keep one');
  if (fromUrl) return { kind: 'basic', ...fromUrl };
  if (!entry) return { kind: 'none' };
  if ('bearer' in entry) return { kind: 'bearer', token: entry.bearer };
  if ('basic' in entry) {
    const i = entry.basic.indexOf(':');
    return { kind: 'basic', user: entry.basic.slice(0, i), password: entry.basic.slice(i + 1) };
  }
  return { kind: 'header', name: entry.header, value: entry.value };
}

const FILE_HINT =
  'The hosts file is JSON: [{"name": "gpu-1", "url": "http://10.0.0.2:8188", "weight": 1, "tags": ["sdxl"], ' +
  '"auth": {"bearer": "..."}, "drain": false}, ...]; auth may also be {"basic": "user:password"} or {"header": "X-Api-Key", "value": "..."}.';

/** [0, 'tags', 1] -> hosts[0].tags[1] */
function entryPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('').replace(/^\[/, 'hosts[');
}

/** Reads and validates a hosts file; every problem names the file, the entry and the fix. */
export function readHostsFile(file: string, cwd: string): HostSpec[] {
  const path = resolve(cwd, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigInvalidError(`COMFYWIRE_HOSTS_FILE ${path} could not be read as JSON: ${(cause as Error).message}.`, { cause, hint: FILE_HINT });
  }
  const parsed = HostsFileSchema.safeParse(raw);
  if (!parsed.success) {
    // The union's own message is generic: report the array form's issues, the documented one.
    const issues = z.array(HostEntrySchema).safeParse(Array.isArray(raw) ? raw : (raw as { hosts?: unknown } | null)?.hosts).error?.issues ?? parsed.error.issues;
    const lines = issues.slice(0, 10).map((i) => `  ${i.path.length ? entryPath(i.path) : 'the file'}: ${i.message}`);
    throw new ConfigInvalidError(`COMFYWIRE_HOSTS_FILE ${path} is invalid:\n${lines.join('\n')}`, { hint: FILE_HINT });
  }
  const entries = Array.isArray(parsed.data) ? parsed.data : parsed.data.hosts;
  const hosts = entries.map((e, i) => {
    try {
      return { name: e.name, url: bareUrl(e.url), auth: authOf(e.auth, e.url), weight: e.weight, tags: Object.freeze([...e.tags]), drain: e.drain };
    } catch (err) {
      throw new ConfigInvalidError(`COMFYWIRE_HOSTS_FILE ${path}: host ${i} (${e.name}) ${(err as Error).message}.`, { hint: FILE_HINT });
    }
  });
  return checkFleet(hosts, `COMFYWIRE_HOSTS_FILE ${path}`);
}

/** COMFYUI_URLS: each URL a host named host:port, all with the shared auth settings. */
export function hostsFromUrls(list: string, sharedAuth: ComfyAuth): HostSpec[] {
  const urls = list.split(',').map((u) => u.trim()).filter((u) => u !== '');
  const bad = urls.find((u) => !isHttpUrl(u));
  if (bad !== undefined || urls.length === 0) {
    throw new ConfigInvalidError(`COMFYUI_URLS must be http:// or https:// URLs separated by commas${bad !== undefined ? `; "${bad.slice(0, 120)}" is not one` : ''}.`, {
      hint: 'For example COMFYUI_URLS=http://10.0.0.2:8188,http://10.0.0.3:8188; use COMFYWIRE_HOSTS_FILE to give each host a name, auth, weight or tags.',
    });
  }
  const hosts = urls.map((u) => {
    const own = urlCredentials(u);
    if (own && sharedAuth.kind !== 'none') {
      throw new ConfigInvalidError(`COMFYUI_URLS: ${hostPortName(u)} carries credentials while a COMFYUI_AUTH_* variable is also set; comfywire sends one auth style.`, {
        hint: 'Remove the credentials from the URL, or unset the COMFYUI_AUTH_* variables.',
      });
    }
    return { name: hostPortName(u), url: bareUrl(u), auth: own ? { kind: 'basic' as const, ...own } : sharedAuth, weight: 1, tags: Object.freeze([] as string[]), drain: false };
  });
  return checkFleet(hosts, 'COMFYUI_URLS');
}

/** Names and addresses must each be unique: a job's host is found by name, a socket by address. */
function checkFleet(hosts: HostSpec[], source: string): HostSpec[] {
  if (hosts.length === 0) throw new ConfigInvalidError(`${source} lists no host.`, { hint: FILE_HINT });
  const seen = new Map<string, string>();
  for (const h of hosts) {
    for (const [key, what] of [[`name:${h.name}`, `the name ${h.name}`], [`url:${h.url}`, `the address ${h.url}`]] as const) {
      if (seen.has(key)) {
        throw new ConfigInvalidError(`${source} names ${what} twice.`, { hint: 'Each host needs its own name and its own address.' });
      }
      seen.set(key, h.name);
    }
  }
  return hosts.map((h) => Object.freeze({ ...h, auth: Object.freeze(h.auth) }));
}
