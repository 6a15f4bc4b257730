import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ApiPrompt } from '../../comfy/types.js';
import { HttpError, internalError, isObject, readJson, sendJson } from '../http-util.js';
import { NODE_IMPLS } from '../nodes/registry.js';
import { pyFloat, pyTruthy } from '../py-format.js';
import { validatePrompt } from '../validation.js';
import type { Route } from './route.js';

/** GET /prompt (the counter) and POST /prompt (validate, then queue). */
export const promptRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/prompt$/,
    handle: ({ res, ctx }) => sendJson(res, 200, { exec_info: { queue_remaining: ctx.queue.remaining } }),
  },
  {
    method: 'POST',
    path: /^\/prompt$/,
    async handle({ req, res, ctx }) {
      const body = await readJson(req);
      const broken = ctx.faults.takePromptBreak();
      if (broken === 'before_queueing') return resetConnection(res);
      if (!isObject(body)) throw internalError();
      // The counter advances for every request without `number`, even ones that fail validation.
      // float(number): null, lists, dicts and non-numeric strings are a 500; `front` is Python truthiness.
      let number: number;
      if ('number' in body) {
        const n = pyFloat(body.number);
        if (n === undefined) throw internalError();
        number = n;
      } else number = ctx.queue.nextNumber(pyTruthy(body.front));
      if (!('prompt' in body)) {
        const error = { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} };
        return sendJson(res, 400, { error, node_errors: {} });
      }
      if (!isObject(body.prompt)) throw internalError();
      const prompt = body.prompt as ApiPrompt;
      const promptId = 'prompt_id' in body ? pyStr(body.prompt_id) : randomUUID();
      const targets = Array.isArray(body.partial_execution_targets) ? body.partial_execution_targets.map(String) : undefined;
      let result;
      try {
        result = validatePrompt(prompt, { objectInfo: ctx.objectInfo(), impls: NODE_IMPLS, files: { files: ctx.files } }, targets);
      } catch (err) {
        ctx.logger?.warn(`simulator: validation crashed: ${String(err)}`);
        throw internalError();
      }
      // extra_data["client_id"] = ... on anything but a dict raises: a 500 after validation.
      if ('extra_data' in body && !isObject(body.extra_data) && 'client_id' in body) throw internalError();
      const extraData: Record<string, unknown> = isObject(body.extra_data) ? { ...body.extra_data } : {};
      if ('client_id' in body) extraData.client_id = body.client_id;
      if (!result.ok) return sendJson(res, 400, { error: result.error, node_errors: result.nodeErrors });
      // Today's ComfyUI stamps each accepted prompt (ms); the jobs API sorts by it.
      if (ctx.api === 'latest') extraData.create_time = Date.now();
      ctx.queue.put({ number, promptId, prompt, extraData, outputs: result.outputs });
      if (broken === 'after_queueing') return resetConnection(res);
      sendJson(res, 200, { prompt_id: promptId, number, node_errors: result.nodeErrors });
    },
  },
];

/** The connection reset (RST) without a word: what a dropped link looks like to the client. */
function resetConnection(res: ServerResponse): void {
  const socket = res.socket;
  if (socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else res.destroy();
}

/** Python's str() on the prompt_id the client sent: null becomes "None". */
function pyStr(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  throw new HttpError(500);
}
