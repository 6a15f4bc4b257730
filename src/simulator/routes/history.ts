import { internalError, isObject, readJson, sendEmpty, sendJson } from '../http-util.js';
import type { Route } from './route.js';

/** /history and /history/{id}; unknown ids answer {} with 200, never 404. */
export const historyRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/history$/,
    handle({ res, url, ctx }) {
      const max = url.searchParams.get('max_items');
      const offset = url.searchParams.get('offset');
      sendJson(res, 200, ctx.history.list(max === null ? undefined : pyInt(max), offset === null ? -1 : pyInt(offset)));
    },
  },
  {
    method: 'GET',
    path: /^\/history\/([^/]+)$/,
    handle({ res, params, ctx }) {
      const id = params[0] as string;
      const entry = ctx.history.get(id);
      sendJson(res, 200, entry ? { [id]: entry } : {});
    },
  },
  {
    method: 'POST',
    path: /^\/history$/,
    async handle({ req, res, ctx }) {
      const body = await readJson(req);
      if (isObject(body)) {
        if (body.clear) ctx.history.clear();
        if (Array.isArray(body.delete)) for (const id of body.delete) ctx.history.delete(String(id));
      }
      sendEmpty(res);
    },
  },
];

/** int() on a query value: anything else is a 500 on the real server. */
function pyInt(text: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(text)) throw internalError();
  return Number(text);
}
