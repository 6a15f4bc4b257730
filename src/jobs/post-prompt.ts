import type { ComfyClient } from '../comfy/client.js';
import type { ApiPrompt } from '../comfy/types.js';
import { ComfyUnreachableError } from '../errors.js';
import { GONE_RECHECK_MS } from '../../streams/where-is.js';

/**
 * POST /prompt when the connection breaks before the answer (a network drop, a keep-alive socket
 * reset just as the request went out). Such a POST may or may not have reached ComfyUI, and a
 * POST is never simply sent again: it could queue the prompt twice. The prompt id is ours, so
 * ComfyUI is asked instead. In its queue or history: it was accepted (with that number). Nowhere,
 * twice, GONE_RECHECK_MS apart (a request still on its way in shows as nowhere for a moment): it
 * never arrived, and it is posted again, up to SUBMIT_RETRIES times. A deadline that passed is not
 * a broken connection: that POST stays sent once (ComfyUI may still be validating it).
 */

export const SUBMIT_RETRIES = 2;

/** Transport codes of an established connection that broke: the request may have gone out, or not. */
const BROKEN_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export type PostClient = Pick<ComfyClient, 'submitPrompt' | 'getQueue' | 'getHistory'>;
type Reply = Awaited<ReturnType<ComfyClient['submitPrompt']>>;
type PostOptions = NonNullable<Parameters<ComfyClient['submitPrompt']>[1]> & { promptId: string };

function brokeBeforeAnswer(error: unknown): boolean {
  return error instanceof ComfyUnreachableError && BROKEN_CODES.has(String(error.context['reason']));
}

/** The queue number ComfyUI gave the prompt, or undefined when it has no such prompt. */
async function queuedAs(client: PostClient, promptId: string): Promise<number | undefined> {
  const queue = await client.getQueue();
  const item = [...queue.running, ...queue.pending].find((i) => i.promptId === promptId);
  if (item) return item.number;
  const entry = await client.getHistory(promptId);
  // History keeps the queue item as an array: [number, prompt_id, prompt, extra_data, outputs].
  const number = entry?.prompt[0];
  return entry ? (typeof number === 'number' ? number : 0) : undefined;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function postPrompt(client: PostClient, prompt: ApiPrompt, options: PostOptions): Promise<Reply> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.submitPrompt(prompt, options);
    } catch (error) {
      if (!brokeBeforeAnswer(error) || options.signal?.aborted || attempt >= SUBMIT_RETRIES) throw error;
      // If ComfyUI cannot be asked either, the original failure is the one to report.
      const lookUp = () => queuedAs(client, options.promptId).catch(() => Promise.reject(error));
      let number = await lookUp();
      if (number === undefined) {
        await pause(GONE_RECHECK_MS);
        number = await lookUp();
      }
      // Accepted, but the answer with any dropped outputs (node_errors) was lost: none to report.
      if (number !== undefined) return { promptId: options.promptId, number, nodeErrors: [] };
    }
  }
}
