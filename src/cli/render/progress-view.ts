import { createLogUpdate } from 'log-update';
import type { JobState } from '../../../streams/job-state.js';
import type { Redactor } from '../../redact.js';
import { describeJob } from './progress.js';

/**
 * A job's progress on a terminal stream (generate's stderr). On a TTY it is one line, redrawn in
 * place by log-update and fitted to the terminal's width at each update (a line wider than the
 * terminal would wrap, and every update would then scroll); the last state stays on screen. On
 * anything else (a pipe, a file, CI logs) it is plain lines, one per change, with no escape codes.
 */
export interface ProgressView {
  update(state: JobState): void;
  /** Leaves the last line where it is; later writes start on a fresh line. */
  done(): void;
}

/** The part of a stream the view uses: what process.stderr offers. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  write(chunk: string): boolean;
}

/** One column is left free: a line that fills the last one leaves some terminals mid-wrap. */
const SPARE_COLUMNS = 1;

export function progressView(stream: ProgressStream, redact: Redactor): ProgressView {
  let last = '';
  if (stream.isTTY !== true) {
    return {
      update(state) {
        const line = redact(describeJob(state));
        if (line === last) return;
        last = line;
        stream.write(`${line}\n`);
      },
      done() {},
    };
  }
  // showCursor: hiding it would take a process-wide exit hook to restore it, next to our own
  // SIGINT handling (Ctrl-C cancels the render).
  const render = createLogUpdate(stream as NodeJS.WriteStream, { showCursor: true });
  return {
    update(state) {
      const columns = Math.max(1, (stream.columns ?? 80) - SPARE_COLUMNS);
      render(redact(describeJob(state, columns)));
    },
    done() {
      render.done();
    },
  };
}
