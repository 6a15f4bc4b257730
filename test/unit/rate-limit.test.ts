import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CallAdmission, TokenBucket } from '../../src/mcp/rate-limit.js';
import { RateLimitedError } from '../../src/errors.js';

/** The token bucket on an injected clock: bursts, refill, and retry times that are exact on both sides. */

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, set: (v: number) => (t = v), add: (ms: number) => (t += ms) };
}

describe('TokenBucket', () => {
  it('admits the burst at once, then one call per interval', () => {
    const c = clock();
    const b = new TokenBucket({ perMinute: 10, burst: 3 }, c.now);
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 0]);
    expect(b.take()).toBe(6_000);
    c.add(5_999);
    expect(b.take()).toBe(1);
    c.add(1);
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(6_000);
  });

  it('a refused call takes nothing: asking again later gives the shorter wait', () => {
    const c = clock();
    const b = new TokenBucket({ perMinute: 60, burst: 1 }, c.now);
    expect(b.take()).toBe(0);
    for (let i = 0; i < 5; i++) expect(b.take()).toBe(1_000);
    c.add(400);
    expect(b.take()).toBe(600);
  });

  it('property: whatever the rate, burst and call times, a retry at the time given is admitted and one 1 ms earlier is not', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 5_000, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 60 }),
        (perMinute, burst, gaps) => {
          const c = clock();
          const b = new TokenBucket({ perMinute, burst }, c.now);
          let admitted = 0;
          const start = c.now();
          for (const gap of gaps) {
            c.add(gap);
            const wait = b.take();
            if (wait === 0) {
              admitted++;
              continue;
            }
            if (wait > 1) {
              c.add(wait - 1);
              if (b.take() === 0) return false;
              c.add(1);
            } else c.add(wait);
            if (b.take() !== 0) return false;
            admitted++;
          }
          // Never more than the burst plus what the elapsed time refilled.
          return admitted <= burst + Math.floor(((c.now() - start) * perMinute) / 60_000) + 1;
        },
      ),
      // Once found: an interval of 1199999.9999999998 ms, whose wait came back 1 ms too long.
      { examples: [[0.05000000000000001, 3, [0, 0, 0, 0]]] },
    );
  });
});

describe('CallAdmission', () => {
  const limits = { generateRate: { perMinute: 10, burst: 1 }, readRate: { perMinute: 0, burst: 1 } };

  it('keeps one bucket per class: generation refused, reads (off here) unaffected', () => {
    const c = clock();
    const admission = new CallAdmission(limits, c.now);
    admission.admit('generate_image');
    let refused: unknown;
    try {
      admission.admit('upload_image');
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', context: { tool: 'upload_image', retryAfterMs: 6_000 } });
    for (let i = 0; i < 1_000; i++) admission.admit('get_queue');
  });

  it('upload_workflow writes a template: it draws from the generation bucket, not the reads', () => {
    const c = clock();
    const admission = new CallAdmission({ generateRate: { perMinute: 10, burst: 1 }, readRate: { perMinute: 600, burst: 60 } }, c.now);
    admission.admit('upload_workflow');
    expect(() => admission.admit('generate_image')).toThrow(RateLimitedError);
    expect(() => admission.admit('upload_workflow')).toThrow('generate_image/upload_image/upload_workflow');
    admission.admit('list_workflows');
    c.add(6_000);
    admission.admit('generate_image');
  });

  it('rounds the retry time up to whole seconds and says minutes past 60 s', () => {
    const c = clock();
    const slow = new CallAdmission({ generateRate: { perMinute: 0.5, burst: 1 }, readRate: { perMinute: 7, burst: 1 } }, c.now);
    slow.admit('generate_image');
    expect(() => slow.admit('generate_image')).toThrow('— retry in 2 min 00 s.');
    slow.admit('list_models');
    // 60 000 / 7 = 8 571.4 ms: the text says 9 s, so a retry then is admitted.
    expect(() => slow.admit('list_models')).toThrow('— retry in 9 s.');
    c.add(8_572);
    expect(() => slow.admit('list_models')).not.toThrow();
  });
});
