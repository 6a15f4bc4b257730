import { isObject, readJson, readOptionalJson, sendEmpty, sendJson } from '../http-util.js';
import { itemArray } from '../prompt-queue.js';
import type { Route } from './route.js';

/** /queue, /interrupt, /free. */
export const queueRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/queue$/,
    handle({ res, ctx }) {
      const running = ctx.queue.running;
      sendJson(res, 200, { queue_running: running ? [itemArray(running)] : [], queue_pending: ctx.queue.pending.map(itemArray) });
    },
  },
  {
    method: 'POST',
    path: /^\/queue$/,
    async handle({ req, res, ctx }) {
      const body = await readJson(req);
      if (isObject(body)) {
        if (body.clear) ctx.queue.clear();
        if (Array.isArray(body.delete)) for (const id of body.delete) ctx.queue.delete(String(id));
      }
      sendEmpty(res);
    },
  },
  {
    method: 'POST',
    path: /^\/interrupt$/,
    async handle({ req, res, ctx }) {
      const body = await readOptionalJson(req);
      // With a prompt_id only that running prompt is interrupted; anything else is ignored.
      const promptId = isObject(body) && typeof body.prompt_id === 'string' ? body.prompt_id : undefined;
      ctx.executor.interrupt(promptId);
      sendEmpty(res);
    },
  },
  {
    method: 'POST',
    path: /^\/free$/,
    async handle({ req, res, ctx }) {
      const body = await readJson(req);
      if (isObject(body) && body.free_memory) ctx.worker.requestFreeMemory();
      sendEmpty(res);
    },
  },
];
