import { sleep } from '../clock.js';
import { patternFromText } from './pixels.js';
import { NodeException, type ImageBatch, type NodeImpl, type UiOutput } from './types.js';

/**
 * The test nodes installed in the ComfyUI the transcripts were recorded from, under
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

/**
 * Test-only (not in the recorded ComfyUI): outputs of every kind from real files. `spec` is JSON,
 * a UI output whose items `{"from": "<input file>", "name"?, "subfolder"?}` become copies of that
 * input file in output/ listed as ComfyUI lists files; other items (`animated: [true]`) pass as given.
 */
export const HarnessFiles: NodeImpl = {
  async run(inputs, ctx) {
    let spec: unknown;
    try {
      spec = JSON.parse(String(inputs.spec));
    } catch {
      throw new NodeException('HarnessFiles: spec is not JSON', 'ValueError');
    }
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new NodeException('HarnessFiles: spec must be an object of lists', 'ValueError');
    const ui: UiOutput = {};
    for (const [key, items] of Object.entries(spec as Record<string, unknown>)) {
      if (!Array.isArray(items)) throw new NodeException(`HarnessFiles: ${key} must be a list`, 'ValueError');
      ui[key] = await Promise.all(
        items.map(async (item: unknown) => {
          if (!item || typeof item !== 'object' || !('from' in item)) return item;
          const { from, name, subfolder } = item as { from: unknown; name?: unknown; subfolder?: unknown };
          return ctx.files.copyToOutput(String(from), String(name ?? from), String(subfolder ?? ''));
        }),
      );
    }
    return { outputs: [], ui };
  },
};
