import type { Config } from './config.js';

/**
 * Secrets never leave the process in text: every output (logs, errors, tool results, `doctor`,
 * `tail`, the feed) passes through a redactor. Two layers: structural (the password of any URL,
 * the credentials of an Authorization-like phrase a server may echo), which needs no
 * configuration; and the configured secrets themselves, wherever they appear.
 */

export const MASK = '***';

/**
 * Shorter secrets are not scrubbed as substrings: a 3-letter password would garble every line
 * that contains those letters. They are still never printed by comfywire itself (URLs lose their
 * userinfo, auth is described by kind), only an echo by a server could carry one.
 */
export const MIN_SCRUBBED_SECRET = 6;

export type Redactor = (text: string) => string;

// scheme://user:password@ — the password is everything up to the last @ before the host.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;
// What an HTTP server echoing our request headers would show.
const AUTH_PHRASE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{6,}=*/g;

/** The structural layer alone: usable before (or without) a configuration. */
export function redactUrls(text: string): string {
  // Most text has neither an '@' nor an auth word: skip the regular expressions for it (every
  // outgoing MCP message passes here; bench/mcp.ts).
  let out = text;
  if (out.includes('@')) out = out.replace(URL_USERINFO, `$1$2:${MASK}@`);
  if (out.includes('Bearer') || out.includes('Basic')) out = out.replace(AUTH_PHRASE, `$1 ${MASK}`);
  return out;
}

/** Masks each secret wherever it appears, the longest first; repeated until none is left. */
export function redactSecrets(secrets: readonly string[]): Redactor {
  const scrubbed = [...new Set(secrets)].filter((s) => s.length >= MIN_SCRUBBED_SECRET).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    // Each replacement shortens the text (a secret is longer than the mask), so this ends.
    for (let found = true; found; ) {
      found = false;
      for (const s of scrubbed) {
        if (out.includes(s)) {
          out = out.split(s).join(MASK);
          found = true;
        }
      }
    }
    return out;
  };
}

/** The parts of the configuration that hold secrets (`hosts` optional: tests pass a bare auth). */
export type SecretsConfig = Pick<Config, 'auth' | 'databaseUrl' | 'http'> & { hosts?: Config['hosts'] };

/** Every secret the configuration holds, in each form it could be written out. */
export function secretsOf(config: SecretsConfig): string[] {
  const plain: string[] = [];
  // Every host's auth (a hosts file gives each its own), the first host's being config.auth.
  for (const auth of [config.auth, ...(config.hosts ?? []).map((h) => h.auth)]) {
    if (auth.kind === 'bearer') plain.push(auth.token);
    if (auth.kind === 'header') plain.push(auth.value);
    if (auth.kind === 'basic') {
      plain.push(auth.password);
      if (auth.password) plain.push(Buffer.from(`${auth.user}:${auth.password}`).toString('base64'));
    }
  }
  if (config.http.token) plain.push(config.http.token);
  if (config.databaseUrl) {
    try {
      const password = new URL(config.databaseUrl).password;
      if (password) plain.push(password, decodeURIComponent(password));
    } catch {
      // Not a parseable URL: the structural layer still masks a user:password@ in it.
    }
  }
  return [...new Set(plain.flatMap((s) => [s, encodeURIComponent(s)]))];
}

/** The redactor for everything a process configured this way writes. */
export function redactorFor(config: SecretsConfig): Redactor {
  const secrets = redactSecrets(secretsOf(config));
  return (text) => redactUrls(secrets(text));
}

/**
 * Redacts every string inside a JSON-like value. The value is left alone: what holds a secret is
 * copied, and what holds none is returned as it is (no copy of a message with nothing to hide).
 * Base64 bytes (the `data` of image and audio content, a resource's `blob`) are not text: they
 * are kept as they are.
 */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  // An Error's text is in non-enumerable properties; its stack carries the message too.
  if (value instanceof Error) return redact(value.stack ?? `${value.name}: ${value.message}`) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const r = redactDeep(v, redact);
      if (r !== v) (out ??= value.slice())[i] = r;
    }
    return (out ?? value) as T;
  }
  if (value !== null && typeof value === 'object') {
    const binary = 'type' in value && (value.type === 'image' || value.type === 'audio');
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      if ((binary && k === 'data') || k === 'blob') continue;
      const r = redactDeep(v, redact);
      if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
    }
    return (out ?? value) as T;
  }
  return value;
}
