import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HttpError, readBody, sendJson } from '../http-util.js';
import type { Route } from './route.js';

/**
 * /userdata under user/default/. `{file}` is one path segment with `/` sent as `%2F`
 * (decoded before matching); escaping the user folder is a 403 (400 on /v2).
 */
function inside(root: string, rel: string, escapeStatus: number): string {
  const full = path.resolve(root, rel);
  if (full !== root && !full.startsWith(root + path.sep)) throw new HttpError(escapeStatus);
  return full;
}

async function walk(dir: string, recurse: boolean, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) {
      if (recurse) out.push(...(await walk(path.join(dir, d.name), recurse, rel)));
    } else out.push(rel);
  }
  return out;
}

export const userdataRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/userdata$/,
    async handle({ res, url, ctx }) {
      const dirParam = url.searchParams.get('dir');
      if (!dirParam) throw new HttpError(400);
      const root = ctx.files.userDir();
      const dir = inside(root, dirParam, 403);
      const info = await stat(dir).catch(() => undefined);
      if (!info?.isDirectory()) throw new HttpError(404);
      const files = await walk(dir, url.searchParams.get('recurse') === 'true');
      if (url.searchParams.get('full_info') === 'true') {
        const full = await Promise.all(files.map(async (f) => {
          const s = await stat(path.join(dir, f));
          return { path: f, size: s.size, modified: s.mtimeMs / 1000, created: s.birthtimeMs / 1000 };
        }));
        return sendJson(res, 200, full);
      }
      if (url.searchParams.get('split') === 'true') return sendJson(res, 200, files.map((f) => [f, ...f.split('/')]));
      sendJson(res, 200, files);
    },
  },
  {
    method: 'GET',
    path: /^\/v2\/userdata$/,
    async handle({ res, url, ctx }) {
      const root = ctx.files.userDir();
      const rel = url.searchParams.get('path') ?? '';
      const dir = inside(root, rel, 400);
      const info = await stat(dir).catch(() => undefined);
      if (!info?.isDirectory()) throw new HttpError(404);
      const files = await walk(dir, true);
      const dirs = new Set<string>();
      for (const f of files) f.split('/').slice(0, -1).forEach((_, i, parts) => dirs.add(parts.slice(0, i + 1).join('/')));
      const join = (p: string): string => (rel ? `${rel.replace(/\/$/, '')}/${p}` : p);
      const entries = [
        ...[...dirs].sort().map((d) => ({ name: path.posix.basename(d), path: join(d), type: 'directory' })),
        ...(await Promise.all(files.map(async (f) => {
          const s = await stat(path.join(dir, f));
          return { name: path.posix.basename(f), path: join(f), type: 'file', size: s.size, modified: s.mtimeMs / 1000 };
        }))),
      ];
      sendJson(res, 200, entries);
    },
  },
  {
    method: 'GET',
    path: /^\/userdata\/([^/]+)$/,
    async handle({ res, params, ctx }) {
      const file = inside(ctx.files.userDir(), params[0] as string, 403);
      const data = await readFile(file).catch(() => undefined);
      if (!data) throw new HttpError(404);
      res.writeHead(200, { 'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'Content-Length': data.length });
      res.end(data);
    },
  },
  {
    method: 'POST',
    path: /^\/userdata\/([^/]+)$/,
    async handle({ req, res, url, params, ctx }) {
      const rel = params[0] as string;
      const file = inside(ctx.files.userDir(), rel, 403);
      const overwrite = url.searchParams.get('overwrite') !== 'false';
      if (!overwrite && (await stat(file).catch(() => undefined))) throw new HttpError(409);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, await readBody(req));
      if (url.searchParams.get('full_info') === 'true') {
        const s = await stat(file);
        return sendJson(res, 200, { path: rel, size: s.size, modified: s.mtimeMs / 1000, created: s.birthtimeMs / 1000 });
      }
      sendJson(res, 200, rel);
    },
  },
  {
    method: 'DELETE',
    path: /^\/userdata\/([^/]+)$/,
    async handle({ res, params, ctx }) {
      const file = inside(ctx.files.userDir(), params[0] as string, 403);
      if (!(await stat(file).catch(() => undefined))) throw new HttpError(404);
      await rm(file);
      res.writeHead(204);
      res.end();
    },
  },
];
