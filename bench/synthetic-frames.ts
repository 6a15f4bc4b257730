import type { ApiPrompt } from '../src/comfy/types.js';

/** The SD 1.5 graph's shape, for prompt contexts (titles, weights) like a real job has. */
export const SD15_PROMPT: ApiPrompt = {
  '3': { class_type: 'KSampler', inputs: {}, _meta: { title: 'KSampler' } },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: {}, _meta: { title: 'Load Checkpoint' } },
  '5': { class_type: 'EmptyLatentImage', inputs: {} },
  '6': { class_type: 'CLIPTextEncode', inputs: {} },
  '7': { class_type: 'CLIPTextEncode', inputs: {} },
  '8': { class_type: 'VAEDecode', inputs: {} },
  '9': { class_type: 'SaveImage', inputs: {} },
};

const nodeState = (pid: string, id: string, value: number, max: number, state: string) => ({
  value,
  max,
  state,
  node_id: id,
  prompt_id: pid,
  display_node_id: id,
  parent_node_id: null,
  real_node_id: id,
});

/** One sampler step as ComfyUI sends it: a progress_state snapshot then a progress message. */
export function stepFrames(pid: string, step: number, steps: number): string[] {
  return [
    JSON.stringify({
      type: 'progress_state',
      data: { prompt_id: pid, nodes: { '4': nodeState(pid, '4', 1, 1, 'finished'), '3': nodeState(pid, '3', step, steps, 'running') } },
    }),
    JSON.stringify({ type: 'progress', data: { value: step, max: steps, prompt_id: pid, node: '3' } }),
  ];
}

export function startFrames(pid: string): string[] {
  return [
    JSON.stringify({ type: 'execution_start', data: { prompt_id: pid, timestamp: 1 } }),
    JSON.stringify({ type: 'execution_cached', data: { nodes: [], prompt_id: pid, timestamp: 1 } }),
    JSON.stringify({ type: 'executing', data: { node: '3', display_node: '3', prompt_id: pid } }),
  ];
}

export function endFrames(pid: string, n: number): string[] {
  return [
    JSON.stringify({
      type: 'executed',
      data: { node: '9', display_node: '9', prompt_id: pid, output: { images: [{ filename: `ComfyUI_${String(n).padStart(5, '0')}_.png`, subfolder: '', type: 'output' }] } },
    }),
    JSON.stringify({ type: 'execution_success', data: { prompt_id: pid, timestamp: 2 } }),
    JSON.stringify({ type: 'executing', data: { node: null, prompt_id: pid } }),
  ];
}
