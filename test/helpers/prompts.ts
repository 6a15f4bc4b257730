import type { ApiPrompt } from '../../src/comfy/types.js';

/** A run of `steps` progress ticks `delay` ms apart, then a preview: unique per nonce (no cache hits). */
export const slowPrompt = (steps: number, delay = 20, nonce = Math.random()): ApiPrompt => ({
  '1': { class_type: 'HarnessSlowProgress', inputs: { steps, delay_ms: delay, nonce: Math.floor(nonce * 1e9) } },
  '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
});
