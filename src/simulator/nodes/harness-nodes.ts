import { sleep } from '../clock.js';
import { patternFromText } from './pixels.js';
import { NodeException, type ImageBatch, type NodeImpl } from './types.js';

/**
 * The four test nodes installed in the ComfyUI the transcripts were recorded from, under
 * the same names so recorded prompts replay verbatim.
 */

const int = (v: unknown, fallback: number): number => (v === undefined ? fallback : Number(v));

export const HarnessSlowProgress: NodeImpl = {
  async run(inputs, ctx) {
    const steps = int(inputs.steps, 10);
    const delayMs = int(inputs.delay_ms, 100);
    const previewEvery = int(inputs.preview_every, 0);
    const textEvery = int(inputs.text_every, 0);
    const given = inputs.image as ImageBatch | undefined;
    const image = given?.[0] ?? patternFromText(int(inputs.width, 64), int(inputs.height, 64), `harness:${ctx.nodeId}:${String(inputs.nonce ?? 0)}`);
    for (let step = 1; step <= steps; step++) {
      await sleep(delayMs, ctx.signal);
      // Recorded order: the TEXT frame of a step comes before that step's progress burst.
      if (textEvery > 0 && step % textEvery === 0) ctx.text(`harness step ${step}/${steps}`);
      const preview = previewEvery > 0 && step % previewEvery === 0 ? image : undefined;
      await ctx.progress(step, steps, preview);
    }
    return { outputs: [given ?? [image]] };
  },
};

export const HarnessFail: NodeImpl = {
  async run(inputs) {
    throw new NodeException(`HarnessFail: ${String(inputs.message)}`, 'RuntimeError');
  },
};

export const HarnessText: NodeImpl = {
  async run(inputs) {
    const text = String(inputs.text);
    return { outputs: [text], ui: { text: [text] } };
  },
};

export const HarnessImageInfo: NodeImpl = {
  async run(inputs) {
    const images = inputs.image as ImageBatch;
    const first = images[0];
    const text = first ? `${images.length}x${first.width}x${first.height}` : '0x0x0';
    return { outputs: [], ui: { text: [text] } };
  },
};
