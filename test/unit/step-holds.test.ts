import { describe, expect, it } from '@jest/globals';
import { planStepHolds } from '../helpers/step-holds.js';
import { loadTranscript } from '../helpers/transcript.js';

/** Where the fidelity replay holds the server's steps, read from the recordings themselves. */

function plans(name: string): Array<{ value: number; after: string; join?: string }> {
  const t = loadTranscript(name);
  const at = (i: number): string => `${t.events[i]!.method ?? t.events[i]!.kind} @${t.events[i]!.t_ms}`;
  return planStepHolds(t).map((p) => ({ value: p.value, after: at(p.releaseAfter), ...(p.joinAt !== undefined ? { join: at(p.joinAt) } : {}) }));
}

describe('planStepHolds', () => {
  it('holds the step after the one heard last before an action, until the last action before it', () => {
    // Eight requests between steps 1 and 2, an interrupt after step 5 (it lands in step 6's callback).
    expect(plans('h2_queue_delete_clear_interrupt')).toEqual([
      { value: 2, after: 'POST @120' },
      { value: 6, after: 'POST @522' },
    ]);
    expect(plans('e_interrupt')).toEqual([{ value: 4, after: 'POST @311' }]);
  });

  it('holds a socket that rejoins mid-run before the step it heard first; the old one closes before the next', () => {
    expect(plans('i_reconnect_midrun')).toEqual([
      { value: 7, after: 'close @606' },
      { value: 10, after: 'open @909', join: 'open @909' },
    ]);
  });

  it('holds nothing where no action falls inside a run', () => {
    for (const name of ['a_success_saveimage', 'c_progress', 'c3_progress_previews_metadata', 'k_sd15_txt2img']) expect(plans(name)).toEqual([]);
  });
});
