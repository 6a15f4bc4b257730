import type { Limits } from '../config.js';
import { formatDuration } from '../duration.js';
import { RateLimitedError } from '../errors.js';

/**
 * Rate limits on tool calls, one token bucket per tool class: generation (each call can queue
 * minutes of GPU work in ComfyUI) and reads. A bucket holds up to `burst` tokens, refilled at
 * `perMinute`; a call takes one or is refused with the time until the next. There is one
 * CallAdmission per process (every HTTP session and the stdio server draw from it), and its clock
 * is injected so tests move it.
 */

/** The tools that make ComfyUI work or store a file (there or in the workflows folder); every other tool is a read. */
export const GENERATION_TOOLS: ReadonlySet<string> = new Set(['generate_image', 'upload_image', 'upload_workflow']);

export interface Rate {
  /** Tokens refilled per minute; 0 = no limit. */
  perMinute: number;
  burst: number;
}

const MINUTE_MS = 60_000;

/**
 * A token bucket kept as one number (the generic cell rate algorithm): `due`, the time at which
 * the bucket would be full again. Each call pushes it one interval (a minute / perMinute) later;
 * a call is admitted while `due` stays within burst - 1 intervals of now. No fractional tokens
 * pile up, so "retry in 6 s" is exact: a call made then is admitted.
 */
export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private due: number;

  constructor(
    readonly rate: Rate,
    private readonly now: () => number,
  ) {
    this.intervalMs = MINUTE_MS / rate.perMinute;
    this.toleranceMs = (rate.burst - 1) * this.intervalMs;
    this.due = now();
  }

  /** Takes a token and returns 0, or returns how many ms until one is there (nothing taken). */
  take(): number {
    const now = this.now();
    // A bucket left alone is full, never fuller: `due` is never earlier than now.
    const due = Math.max(this.due, now);
    const early = due - this.toleranceMs - now;
    // A hair of float slack, for rates whose interval is not a whole number of ms: both in the
    // test and in the wait given back, so that a wait of 1200000.0000000002 ms reads 1200000 and
    // a call made exactly then is admitted (fast-check found it).
    if (early > EPSILON_MS) return Math.ceil(early - EPSILON_MS);
    this.due = due + this.intervalMs;
    return 0;
  }
}

const EPSILON_MS = 1e-6;

interface ToolClass {
  bucket: TokenBucket;
  refused(rate: Rate, retry: string): { message: string; hint: string };
}

const GENERATE_NAMES = [...GENERATION_TOOLS].join('/');

export class CallAdmission {
  private readonly generate: ToolClass | undefined;
  private readonly read: ToolClass | undefined;

  constructor(limits: Pick<Limits, 'generateRate' | 'readRate'>, now: () => number = () => Date.now()) {
    this.generate = bucketFor(limits.generateRate, now, (rate, retry) => ({
      message: `Rate limit: at most ${rate.perMinute} ${GENERATE_NAMES} calls a minute (burst ${rate.burst}) — retry in ${retry}.`,
      hint:
        "Other tools still work meanwhile. The limit protects ComfyUI's queue; configure COMFYWIRE_GENERATE_RATE_PER_MIN and " +
        'COMFYWIRE_GENERATE_BURST to change it (0 turns it off).',
    }));
    this.read = bucketFor(limits.readRate, now, (rate, retry) => ({
      message:
        `Rate limit: at most ${rate.perMinute} read calls a minute (every tool but ${GENERATE_NAMES}; burst ${rate.burst}) ` +
        `— retry in ${retry}.`,
      hint: 'Generation is limited separately. Configure COMFYWIRE_READ_RATE_PER_MIN and COMFYWIRE_READ_BURST to change it (0 turns it off).',
    }));
  }

  /** Admits one call of `tool` or throws RateLimitedError saying when to retry. */
  admit(tool: string): void {
    const cls = GENERATION_TOOLS.has(tool) ? this.generate : this.read;
    if (!cls) return;
    const waitMs = cls.bucket.take();
    if (waitMs === 0) return;
    // Whole seconds, rounded up: retrying at the time given always succeeds.
    const retry = formatDuration(Math.ceil(waitMs / 1000) * 1000);
    const { message, hint } = cls.refused(cls.bucket.rate, retry);
    throw new RateLimitedError(message, { hint, context: { tool, retryAfterMs: waitMs } });
  }
}

function bucketFor(rate: Rate, now: () => number, refused: ToolClass['refused']): ToolClass | undefined {
  return rate.perMinute > 0 ? { bucket: new TokenBucket(rate, now), refused } : undefined;
}
