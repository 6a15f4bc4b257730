import { describe, expect, it } from '@jest/globals';
import { joinedMidRun, lastStepBefore } from '../helpers/transcript-compare.js';
import { loadTranscript } from '../helpers/transcript.js';

/** The fidelity suite's one tolerance: where a mid-run reconnect lands, and nothing else. */

const steps = (from: number, to: number, max = 15): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => [`progress_state(1:running:${from + i}/${max})`, `progress(${from + i}/${max} node=1)`]).flat();
const joined = (body: string[]): string[] => ['[open]', 'status(queue_remaining=1, sid)', 'executing(node=1, no prompt_id)', ...body, 'execution_success', '[close]'];

describe('joinedMidRun', () => {
  const recorded = joinedMidRun(joined(steps(10, 15)));

  it('accepts the same socket landing on another step', () => {
    for (const first of [7, 9, 11, 15]) {
      const ours = joinedMidRun(joined(steps(first, 15)));
      expect(ours.lines).toEqual(recorded.lines);
      expect(ours.firstStep).toBe(first);
    }
  });

  it('rejects a missing, repeated or extra step, another end, or anything else changed', () => {
    for (const body of [
      [...steps(9, 11), ...steps(13, 15)],
      [...steps(9, 12), ...steps(12, 15)],
      [...steps(9, 15), 'progress(15/15 node=1)'],
      steps(9, 14),
      [...steps(9, 15), 'status(queue_remaining=0)'],
      steps(9, 15, 20),
    ]) expect(joinedMidRun(joined(body)).lines).not.toEqual(recorded.lines);
  });

  it('leaves lines of sockets that did not join mid-run as they are', () => {
    const lines = ['[open]', 'status(queue_remaining=0, sid)', ...steps(1, 3), '[close]'];
    expect(joinedMidRun(lines)).toEqual({ lines });
  });

  it('knows the last step the earlier socket of the same client got', () => {
    expect(lastStepBefore(loadTranscript('i_reconnect_midrun'), 'submitter_reconnected')).toBe(6);
  });
});
