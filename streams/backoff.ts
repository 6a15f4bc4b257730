/**
 * Reconnect delays: exponential growth with jitter, so that many clients dropped by the same
 * server restart do not all knock again in the same millisecond.
 *
 * `backoffDelay` is pure (the random source is a parameter) so tests can pin every delay.
 * "Reset on success" is the caller's job: it passes attempt 0 again after a socket opened
 * (`retry({ resetOnSuccess: true })` does exactly that with its retry count).
 */

/** The first delay, before jitter. */
export const BACKOFF_INITIAL_DELAY_MS = 500;
/** Each further failed attempt multiplies the nominal delay by this. */
export const BACKOFF_FACTOR = 2;
/** No delay grows beyond this: a restarted ComfyUI is picked up within half a minute. */
export const BACKOFF_MAX_DELAY_MS = 30_000;
/** Failed attempts in a row before giving up; a long-running client never gives up by default. */
export const BACKOFF_MAX_ATTEMPTS = Number.POSITIVE_INFINITY;
/** Decorrelated jitter draws the next delay from [initial, previous * this] (AWS uses 3). */
export const DECORRELATED_JITTER_SPREAD = 3;

/**
 * - `full`: uniform in [0, nominal] (AWS "full jitter"), best spread.
 * - `decorrelated`: uniform in [initial, previous * 3], capped; never below the initial delay.
 * - `none`: the nominal exponential delay, for tests and predictable tooling.
 */
export type BackoffJitter = 'full' | 'decorrelated' | 'none';

export interface BackoffOptions {
  initialDelayMs: number;
  factor: number;
  maxDelayMs: number;
  maxAttempts: number;
  jitter: BackoffJitter;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialDelayMs: BACKOFF_INITIAL_DELAY_MS,
  factor: BACKOFF_FACTOR,
  maxDelayMs: BACKOFF_MAX_DELAY_MS,
  maxAttempts: BACKOFF_MAX_ATTEMPTS,
  jitter: 'full',
});

/** Fill in defaults and reject settings that would spin (negative or NaN delays, shrinking factor). */
export function resolveBackoff(overrides: Partial<BackoffOptions> = {}): BackoffOptions {
  const options: BackoffOptions = { ...DEFAULT_BACKOFF, ...stripUndefined(overrides) };
  const { initialDelayMs, factor, maxDelayMs, maxAttempts } = options;
  if (!(initialDelayMs >= 0) || !Number.isFinite(initialDelayMs)) throw new RangeError(`backoff initialDelayMs must be a finite number >= 0, got ${initialDelayMs}`);
  if (!(factor >= 1) || !Number.isFinite(factor)) throw new RangeError(`backoff factor must be a finite number >= 1, got ${factor}`);
  if (!(maxDelayMs >= initialDelayMs)) throw new RangeError(`backoff maxDelayMs (${maxDelayMs}) must be >= initialDelayMs (${initialDelayMs})`);
  if (!(maxAttempts >= 0)) throw new RangeError(`backoff maxAttempts must be >= 0, got ${maxAttempts}`);
  return options;
}

/** The delay before retry number `attempt` (0-based: 0 is the first retry after a success or start). */
export function nominalDelay(attempt: number, options: BackoffOptions): number {
  const n = Math.max(0, Math.floor(attempt));
  // factor ** n overflows to Infinity for large n; the cap keeps the result finite.
  return Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** n);
}

/**
 * The jittered delay before retry number `attempt` (0-based). `random` returns [0, 1).
 * Decorrelated jitter depends on the previous delay; pass it as `previousDelayMs` (when omitted,
 * the previous attempt's nominal delay stands in, so the function stays usable on its own).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
  previousDelayMs?: number,
): number {
  const nominal = nominalDelay(attempt, options);
  switch (options.jitter) {
    case 'none':
      return nominal;
    case 'full':
      return Math.round(random() * nominal);
    case 'decorrelated': {
      const previous = previousDelayMs ?? (attempt <= 0 ? options.initialDelayMs : nominalDelay(attempt - 1, options));
      const upper = Math.max(options.initialDelayMs, previous * DECORRELATED_JITTER_SPREAD);
      const drawn = options.initialDelayMs + random() * (upper - options.initialDelayMs);
      return Math.round(Math.min(options.maxDelayMs, drawn));
    }
  }
}

function stripUndefined<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
