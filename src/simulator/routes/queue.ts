import { internalError, isObject, readJson, readOptionalJson, sendEmpty, sendJson } from '../http-util.js';
import { pyTruthy } from '../py-format.js';
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
        // a[1] == id: only a string can equal a prompt_id (5 never matches "5").
        if (Array.isArray(body.delete)) for (const id of body.delete) if (typeof id === 'string') ctx.queue.delete(id);
      }
      sendEmpty(res);
    },
  },
  {
    method: 'POST',
    path: /^\/interrupt$/,
    async handle({ req, res, ctx }) {
      // Empty or invalid JSON reads as {}; other JSON that is not an object breaks json_data.get (500).
      const body = (await readOptionalJson(req)) ?? {};
      if (!isObject(body)) throw internalError();
      // `if prompt_id:` -- a falsy id ("", null, 0) is a global interrupt; a truthy one only stops
      // the running prompt when it is equal to its id (a number never is).
      const promptId = body.prompt_id;
      if (!pyTruthy(promptId)) ctx.executor.interrupt();
      else if (typeof promptId === 'string') ctx.executor.interrupt(promptId);
      sendEmpty(res);
    },
  },
  {
    method: 'POST',
    path: /^\/free$/,
    async handle({ req, res, ctx }) {
      const body = await readJson(req);
      if (!isObject(body)) throw internalError();
      const flags = { freeMemory: pyTruthy(body.free_memory), unloadModels: pyTruthy(body.unload_models) };
      if (flags.freeMemory || flags.unloadModels) ctx.worker.requestFree(flags);
      sendEmpty(res);
    },
  },
];
