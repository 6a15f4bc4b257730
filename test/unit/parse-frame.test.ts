import { describe, expect, it, jest } from '@jest/globals';
import { parseFrame, FRAME_EXCERPT_CHARS, type FrameReporter } from '../../streams/parse-frame.js';
import { loadTranscript, transcriptNames } from '../helpers/fixtures.js';

function recorder(): { report: FrameReporter; problems: string[] } {
  const problems: string[] = [];
  return { report: (problem) => problems.push(problem), problems };
}

describe('parseFrame', () => {
  it('accepts every text frame a real ComfyUI sent, with its own type', () => {
    const { report, problems } = recorder();
    let count = 0;
    for (const name of transcriptNames()) {
      for (const event of loadTranscript(name).events) {
        if (event.source !== 'ws' || event.kind !== 'text' || !event.type) continue;
        const parsed = parseFrame(JSON.stringify({ type: event.type, data: event.data }), report);
        expect(parsed?.type).toBe(event.type);
        count += 1;
      }
    }
    expect(count).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('validates known types and applies schema defaults', () => {
    const frame = JSON.stringify({
      type: 'execution_error',
      data: { prompt_id: 'p1', node_id: '3', node_type: 'KSampler', exception_message: 'boom', exception_type: 'RuntimeError' },
    });
    const event = parseFrame(frame);
    expect(event).toMatchObject({ type: 'execution_error', data: { prompt_id: 'p1', executed: [], traceback: [] } });
  });

  it('keeps the end-of-run executing message (node: null)', () => {
    expect(parseFrame('{"type":"executing","data":{"node":null,"prompt_id":"p1"}}')).toEqual({
      type: 'executing',
      data: { node: null, prompt_id: 'p1' },
    });
  });

  it('passes unknown types through untouched', () => {
    const { report, problems } = recorder();
    const event = parseFrame('{"type":"crystools.monitor","data":{"cpu_utilization":12.5}}', report);
    expect(event).toEqual({ type: 'unknown', data: { type: 'crystools.monitor', data: { cpu_utilization: 12.5 } } });
    expect(problems).toEqual([]);
  });

  it('passes an unknown type without data through', () => {
    expect(parseFrame('{"type":"ping"}')).toEqual({ type: 'unknown', data: { type: 'ping', data: undefined } });
  });

  it.each([
    ['not JSON', '{"type": "status", '],
    ['JSON array', '[1,2,3]'],
    ['JSON string', '"status"'],
    ['no type', '{"data":{}}'],
    ['numeric type', '{"type":7,"data":{}}'],
    ['empty type', '{"type":"","data":{}}'],
    ['known type, bad data', '{"type":"progress","data":{"value":"seven","max":20}}'],
    ['known type, no data', '{"type":"execution_start"}'],
    // zod 4.1's record check throws a TypeError on an object whose own "constructor" is null (found by frame-fuzz.test.ts).
    ['a record with "constructor": null', '{"type":"progress_state","data":{"prompt_id":"p1","nodes":{"constructor":null}}}'],
    ['outputs with "constructor": null', '{"type":"executed","data":{"prompt_id":"p1","node":"9","output":{"constructor":null}}}'],
    ['feature flags with "constructor": null', '{"type":"feature_flags","data":{"constructor":null}}'],
  ])('drops a malformed frame (%s) and reports it, without throwing', (_label, frame) => {
    const report = jest.fn<FrameReporter>();
    expect(parseFrame(frame, report)).toBeUndefined();
    expect(report).toHaveBeenCalledTimes(1);
  });

  it('names the failing fields and cuts long frames in its report', () => {
    const report = jest.fn<FrameReporter>();
    const big = JSON.stringify({ type: 'progress', data: { value: 1, max: 'x', junk: 'y'.repeat(5000) } });
    parseFrame(big, report);
    const [problem, details] = report.mock.calls[0]!;
    expect(problem).toContain('"progress"');
    expect(details['issues']).toEqual([expect.stringContaining('max')]);
    expect(String(details['frame']).length).toBeLessThan(FRAME_EXCERPT_CHARS + 40);
  });
});
