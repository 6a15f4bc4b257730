import { initialJobState, promptContext, reduceJob, type JobState } from '../../streams/job-state.js';
import type { ComfyEvent } from '../../streams/messages.js';
import { describeProgress } from '../../src/mcp/progress.js';

/**
 * Backend node expansion (protocol §4.7, §6.8): a node that returns a sub-graph runs its generated
 * nodes under ids like "5.0.0.1", with display_node = the parent. A sampler inside such a node
 * reports its steps under the expanded id; the job must still show the steps and move forward.
 */
const ctx = promptContext({
  '4': { class_type: 'CheckpointLoaderSimple', inputs: {} },
  '5': { class_type: 'TiledSamplerGroup', inputs: {}, _meta: { title: 'My sampler group' } },
  '9': { class_type: 'SaveImage', inputs: {} },
});

const node = (id: string, value: number, max: number, state: string, display = id) => ({
  value, max, state, node_id: id, prompt_id: 'p', display_node_id: display, parent_node_id: display === id ? null : display, real_node_id: display,
});

function run(events: ComfyEvent[]): JobState {
  return events.reduce((s, e) => reduceJob(s, e, ctx, 1), initialJobState('p', 0));
}

describe('job state with expanded node ids', () => {
  const events: ComfyEvent[] = [
    { type: 'execution_start', data: { prompt_id: 'p' } },
    { type: 'execution_cached', data: { prompt_id: 'p', nodes: ['4'] } },
    { type: 'executing', data: { prompt_id: 'p', node: '5', display_node: '5' } },
    { type: 'executing', data: { prompt_id: 'p', node: '5.0.0.1', display_node: '5' } },
    {
      type: 'progress_state',
      data: { prompt_id: 'p', nodes: { '4': node('4', 1, 1, 'finished'), '5': node('5', 0, 1, 'running'), '5.0.0.1': node('5.0.0.1', 10, 20, 'running', '5') } },
    },
    { type: 'progress', data: { prompt_id: 'p', node: '5.0.0.1', value: 10, max: 20 } },
  ];

  it('moves the overall fraction with the expanded sampler steps', () => {
    const s = run(events);
    // weights: loader 1 (cached), sampler group 8 (half done), save 1 -> (1 + 4) / 10
    expect(s.fraction).toBeCloseTo(0.5, 2);
  });

  it('names the parent node and shows the step of its expanded child', () => {
    const s = run(events);
    expect(s.currentNode).toMatchObject({ id: '5', title: 'My sampler group' });
    expect(describeProgress(s).message).toBe('running My sampler group step 10/20, 50%');
  });
});
