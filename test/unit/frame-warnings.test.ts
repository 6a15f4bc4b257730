import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Subject, VirtualTimeScheduler, VirtualAction } from 'rxjs';
import type { Logger } from '../../src/logger.js';
import { FRAME_WARNING_INTERVAL_MS, frameWarnings } from '../../streams/frame-warnings.js';
import { JobTracker } from '../../streams/job-tracker.js';
import type { ComfyEvent } from '../../streams/messages.js';
import { PromptRouter } from '../../streams/prompt-router.js';
import { decodeFrame } from '../../streams/socket-session.js';

/**
 * Malformed WebSocket frames are counted, not logged one by one: the first of a quiet spell gets
 * a line at once, the rest of each 60 s one line with their count and the last (short, escaped)
 * excerpt. And whatever a server sends, decoding never throws and never touches a job it does not
 * name (fast-check over random text, JSON, well-typed messages with random data, binary frames).
 */

const S = 1_000;

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (m: string) => void lines.push(m);
  return { lines, logger: { warn: log, info: log, error: log, debug: () => undefined } as unknown as Logger };
}

const clock = () => new VirtualTimeScheduler(VirtualAction, Infinity);
/** Runs the scheduler's actions due up to `ms` from its start. */
function runUntil(s: VirtualTimeScheduler, ms: number): void {
  s.maxFrames = ms;
  s.flush();
}

describe('rate-limited warnings about dropped frames', () => {
  it('10,000 bad frames within 60 s: the first logged at once, the other 9,999 as one line at 60 s', () => {
    const s = clock();
    const { logger, lines } = capture();
    const w = frameWarnings(logger, s);
    for (let i = 0; i < 10_000; i++) w.report('text frame is not valid JSON', { frame: `junk ${i} \u001b[31m${'x'.repeat(500)}` });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Dropped a ComfyUI WebSocket frame: text frame is not valid JSON: "junk 0 \\u001b\[31mx+…" \(more in the next 60 s are counted, not logged\)$/);
    runUntil(s, FRAME_WARNING_INTERVAL_MS - 1);
    expect(lines).toHaveLength(1);
    runUntil(s, FRAME_WARNING_INTERVAL_MS);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^Dropped ComfyUI WebSocket frames: ignored 9,999 malformed frames in the last 60 s; last: text frame is not valid JSON: "junk 9999 \\u001b\[31mx+…"$/);
    expect(lines[1]!.length).toBeLessThan(250); // the excerpt is short, whatever the frame's size
  });

  it('garbage for 10 minutes, 100 frames a second: about one line a minute; then quiet: nothing more', () => {
    const s = clock();
    const { logger, lines } = capture();
    const w = frameWarnings(logger, s);
    for (let t = 0; t < 10 * 60 * S; t += 10) {
      runUntil(s, t);
      w.report('bad', { frame: 'x' });
    }
    runUntil(s, 30 * 60 * S);
    expect(lines).toHaveLength(11); // the first frame, then one summary per minute
    expect(lines[1]).toContain('ignored 5,999 malformed frames in the last 60 s'); // the first one had its own line
    expect(lines.slice(2).every((l) => l.includes('ignored 6,000 malformed frames in the last 60 s'))).toBe(true);
  });

  it('a lone bad frame after a quiet spell is logged at once again', () => {
    const s = clock();
    const { logger, lines } = capture();
    const w = frameWarnings(logger, s);
    w.report('bad', { frame: 'a' });
    runUntil(s, 5 * 60 * S);
    w.report('bad', { frame: 'b' });
    expect(lines).toEqual([expect.stringContaining('"a"'), expect.stringContaining('"b"')]);
  });
});

describe('fuzzed frames (fast-check)', () => {
  const KNOWN = ['status', 'executing', 'executed', 'progress', 'progress_state', 'execution_start', 'execution_cached',
    'execution_success', 'execution_error', 'execution_interrupted', 'feature_flags', 'progress_text'];
  const frame = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.json().map(String),
    fc.record({ type: fc.constantFrom(...KNOWN), data: fc.anything() }).map((m) => JSON.stringify(m)),
    fc.record({ type: fc.constantFrom(...KNOWN), data: fc.record({ prompt_id: fc.uuid(), node: fc.oneof(fc.string(), fc.constant(null)) }) }).map((m) => JSON.stringify(m)),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).buffer),
  );

  it('never throw, never change a job they do not name, and log at most one line per interval', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 200 }), (frames) => {
        const { logger, lines } = capture();
        const w = frameWarnings(logger, clock());
        const events$ = new Subject<ComfyEvent>();
        const tracker = new JobTracker({ router: new PromptRouter(events$), recentLimit: 10, now: () => 0 });
        const ours = tracker.track('0b9e8f1c-5a39-4c3e-9d3e-1f0f6c1d2e3a');
        const before = ours.state;
        for (const f of frames) {
          const event = decodeFrame(f, w.report);
          if (event) events$.next(event);
        }
        expect(ours.state).toEqual(before);
        expect(lines.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
