import type { ApiPrompt } from '../../src/comfy/types.js';

/** A run of `steps` progress ticks `delay` ms apart, then a preview: unique per nonce (no cache hits). */
export const slowPrompt = (steps: number, delay = 20, nonce = Math.random()): ApiPrompt => ({
  '1': { class_type: 'HarnessSlowProgress', inputs: { steps, delay_ms: delay, nonce: Math.floor(nonce * 1e9) } },
  '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
});

/** A prompt posted straight to a ComfyUI (or simulator), as another client would (no client_id): its prompt_id. */
export async function postForeignPrompt(url: string): Promise<string> {
  const res = await fetch(`${url}/prompt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      prompt: {
        '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 0 } },
        '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      },
    }),
  });
  return ((await res.json()) as { prompt_id: string }).prompt_id;
}
