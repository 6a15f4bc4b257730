import type { SchedulerLike, Subscription } from 'rxjs';
import type { Logger } from '../src/logger.js';
import type { FrameReporter } from './parse-frame.js';

/**
 * Warnings about dropped WebSocket frames, rate-limited: the first bad frame of a quiet spell is
 * logged at once, the rest of each interval as one line with their count and the last excerpt
 * ("ignored 8,400 malformed frames in the last 60 s; last: ..."). A server sending only garbage
 * thus costs one line a minute, not one a frame (issue 8: 10,000 frames gave 8,400 lines).
 */

export const FRAME_WARNING_INTERVAL_MS = 60_000;
/** How much of the last bad frame the summary quotes, escaped (control characters shown, not sent). */
export const WARNING_EXCERPT_CHARS = 80;

export interface FrameWarnings {
  report: FrameReporter;
  /** Logs what is counted and stops the timer (the connection is closing). */
  stop(): void;
}

function shortExcerpt(problem: string, details: Record<string, unknown>): string {
  const frame = typeof details['frame'] === 'string' ? details['frame'] : '';
  const cut = frame.length > WARNING_EXCERPT_CHARS ? `${frame.slice(0, WARNING_EXCERPT_CHARS)}…` : frame;
  return frame ? `${problem}: ${JSON.stringify(cut)}` : problem;
}

export function frameWarnings(logger: Logger, scheduler: SchedulerLike, intervalMs = FRAME_WARNING_INTERVAL_MS): FrameWarnings {
  let window: Subscription | undefined;
  let count = 0;
  let last = '';
  const summarise = (): void => {
    if (count > 0) {
      logger.warn(
        `Dropped ComfyUI WebSocket frames: ignored ${count.toLocaleString('en-US')} malformed frames in the last ${Math.round(intervalMs / 1000)} s; last: ${last}`,
      );
    }
  };
  const close = (): void => {
    summarise();
    const busy = count > 0;
    count = 0;
    // Still busy: a new window, so a steady stream of garbage gives one line per interval.
    window = busy ? scheduler.schedule(close, intervalMs) : undefined;
  };
  return {
    report(problem, details) {
      if (window === undefined) {
        logger.warn(`Dropped a ComfyUI WebSocket frame: ${shortExcerpt(problem, details)} (more in the next ${Math.round(intervalMs / 1000)} s are counted, not logged)`);
        window = scheduler.schedule(close, intervalMs);
        return;
      }
      count++;
      last = shortExcerpt(problem, details);
    },
    stop() {
      summarise();
      count = 0;
      window?.unsubscribe();
      window = undefined;
    },
  };
}
