import { initialJobState, type JobState } from '../../streams/job-state.js';
import { progressView, type ProgressStream } from '../../src/cli/render/progress-view.js';
import { describeJob, fitLine } from '../../src/cli/render/progress.js';

/** generate's progress line on a terminal of a given width, and as plain lines elsewhere. */

const ESC = /\x1b\[[0-9;?]*[A-Za-z]/g;

function fakeStream(isTTY: boolean, columns?: number): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, columns, rows: 24, written, write: (chunk: string) => written.push(chunk) > 0 };
}

const base = initialJobState('0f6c1d2e-aaaa-4bbb-8ccc-123456789abc', 0, 'sd15-txt2img');
const states: JobState[] = [
  base,
  { ...base, queuePosition: 12 },
  {
    ...base,
    status: 'running',
    fraction: 0.1,
    currentNode: { id: '4', classType: 'CheckpointLoaderSimple', title: 'Load Checkpoint with a rather long title' },
  },
  {
    ...base,
    status: 'running',
    fraction: 0.55,
    currentNode: { id: '3', classType: 'KSampler' },
    nodes: { '3': { state: 'running', value: 11, max: 20 } },
  },
  { ...base, status: 'success', fraction: 1 },
] as JobState[];

describe('progress view', () => {
  it('at 40 columns no drawn line is longer than 40, and each update redraws in place', () => {
    const stream = fakeStream(true, 40);
    const view = progressView(stream, (s) => s);
    for (const s of states) view.update(s);
    view.done();
    const frames = stream.written;
    expect(frames).toHaveLength(states.length);
    for (const frame of frames) {
      for (const line of frame.replace(ESC, '').split('\n')) expect(Array.from(line).length).toBeLessThanOrEqual(40);
      // One line per frame: nothing wraps, so nothing scrolls.
      expect(frame.replace(ESC, '')).toMatch(/^[^\n]+\n$/);
    }
    // From the second frame on, the previous line is erased first (log-update's eraseLines).
    for (const frame of frames.slice(1)) expect(frame.startsWith('\x1b[2K')).toBe(true);
    const running = frames[3]!.replace(ESC, '');
    expect(running).toMatch(/█/);
    expect(running).toContain('55%');
  });

  it('the bar narrows, then goes, before text is cut; with room the line is whole', () => {
    const ksampler = states[3]!;
    const wide = describeJob(ksampler, 79);
    expect(wide).toBe(describeJob(ksampler));
    expect(wide).toMatch(/^[█░]{20} /);
    expect(wide).toContain('KSampler (#3) step 11/20');
    const narrow = describeJob(ksampler, 39);
    expect(narrow.length).toBe(39);
    expect(narrow).toMatch(/^[█░]{5,19} /);
    expect(narrow).toContain('step 11/20');
    const tiny = describeJob(ksampler, 20);
    expect(tiny).not.toMatch(/[█░]/);
    expect(tiny.length).toBeLessThanOrEqual(20);
    expect(tiny.endsWith('…')).toBe(true);
    expect(fitLine('abcdef', 6)).toBe('abcdef');
    expect(fitLine('abcdefg', 6)).toBe('abcde…');
  });

  it('follows a resize: the next update fits the new width', () => {
    const stream = fakeStream(true, 100);
    const view = progressView(stream, (s) => s);
    view.update(states[2]!);
    expect(stream.written[0]!.replace(ESC, '')).toContain('Load Checkpoint with a rather long title (#4)');
    stream.columns = 30;
    view.update(states[3]!);
    for (const line of stream.written[1]!.replace(ESC, '').split('\n')) expect(line.length).toBeLessThanOrEqual(30);
  });

  it('not a TTY: plain lines, one per change, no escape codes, nothing cut', () => {
    const stream = fakeStream(false, 40);
    const view = progressView(stream, (s) => s.replace('KSampler', '[redacted]'));
    for (const s of [...states, states[4]!]) view.update(s);
    view.done();
    const text = stream.written.join('');
    expect(text).not.toContain('\x1b');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(states.length);
    expect(lines[2]).toContain('Load Checkpoint with a rather long title (#4)');
    expect(lines[3]).toContain('[redacted] (#3) step 11/20');
    expect(lines[4]).toMatch(/100%\s+done$/);
  });
});
