import { describe, expect, it } from '@jest/globals';
import {
  BACKOFF_FACTOR, BACKOFF_INITIAL_DELAY_MS, BACKOFF_MAX_ATTEMPTS, BACKOFF_MAX_DELAY_MS, DEFAULT_BACKOFF,
  backoffDelay, nominalDelay, resolveBackoff, type BackoffOptions,
} from '../../streams/backoff.js';

const base: BackoffOptions = { initialDelayMs: 100, factor: 2, maxDelayMs: 1_000, maxAttempts: Infinity, jitter: 'none' };

describe('backoff', () => {
  it('has named defaults: 500 ms, x2, capped at 30 s, never gives up, full jitter', () => {
    expect([BACKOFF_INITIAL_DELAY_MS, BACKOFF_FACTOR, BACKOFF_MAX_DELAY_MS, BACKOFF_MAX_ATTEMPTS]).toEqual([500, 2, 30_000, Infinity]);
    expect(DEFAULT_BACKOFF.jitter).toBe('full');
    expect(resolveBackoff()).toEqual(DEFAULT_BACKOFF);
  });

  it('grows exponentially and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 50, 5000].map((n) => backoffDelay(n, base))).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    expect(nominalDelay(-3, base)).toBe(100);
  });

  it('full jitter draws uniformly from [0, nominal]', () => {
    const full = { ...base, jitter: 'full' as const };
    expect(backoffDelay(2, full, () => 0)).toBe(0);
    expect(backoffDelay(2, full, () => 0.5)).toBe(200);
    expect(backoffDelay(2, full, () => 0.999999)).toBe(400);
    expect(backoffDelay(40, full, () => 0.5)).toBe(500);
  });

  it('decorrelated jitter draws from [initial, previous x 3], capped, never below initial', () => {
    const dec = { ...base, jitter: 'decorrelated' as const };
    expect(backoffDelay(0, dec, () => 0)).toBe(100);
    expect(backoffDelay(0, dec, () => 0.5)).toBe(200); // [100, 300]
    expect(backoffDelay(3, dec, () => 0.5, 250)).toBe(425); // [100, 750]
    expect(backoffDelay(3, dec, () => 1, 900)).toBe(1000); // capped
    expect(backoffDelay(3, dec, () => 0.5)).toBe(650); // previous defaults to nominal(2) = 400 -> [100, 1200] -> capped mid 650
  });

  it('is pure: the same attempt, options and random give the same delay', () => {
    const seq = [0.1, 0.7, 0.3];
    const run = () => seq.map((r, i) => backoffDelay(i, { ...base, jitter: 'full' }, () => r));
    expect(run()).toEqual(run());
  });

  it('merges partial options and rejects settings that would spin or shrink', () => {
    expect(resolveBackoff({ initialDelayMs: 10, maxDelayMs: undefined })).toMatchObject({ initialDelayMs: 10, maxDelayMs: 30_000 });
    expect(() => resolveBackoff({ initialDelayMs: -1 })).toThrow(RangeError);
    expect(() => resolveBackoff({ factor: 0.5 })).toThrow(/factor/);
    expect(() => resolveBackoff({ initialDelayMs: 100, maxDelayMs: 10 })).toThrow(/maxDelayMs/);
    expect(() => resolveBackoff({ initialDelayMs: Number.NaN })).toThrow(RangeError);
  });
});
