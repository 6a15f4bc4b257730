import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HttpError, internalError, readBody, sendJson } from '../http-util.js';
import { parseMultipart } from '../multipart.js';
import type { Route } from './route.js';

/**
 * POST /upload/image: same name + identical bytes reuses the file, different bytes get
 * `name (1).ext`, `name (2).ext`...; overwrite=true|1 replaces. Answers {name, subfolder, type}.
 */
export const uploadRoutes: Route[] = [
  {
    method: 'POST',
    path: /^\/upload\/image$/,
    async handle({ req, res, ctx }) {
      const parts = parseMultipart(await readBody(req), req.headers['content-type']);
      const field = (name: string): string | undefined => parts.find((p) => p.name === name && p.filename === undefined)?.data.toString('utf8');
      const image = parts.find((p) => p.name === 'image');
      if (!image?.filename) throw new HttpError(400);
      const type = field('type') ?? 'input';
      if (type !== 'input' && type !== 'temp' && type !== 'output') throw internalError();
      const overwrite = ['true', '1'].includes(field('overwrite') ?? '');
      const subfolder = field('subfolder') ?? '';
      const base = ctx.files.folder(type);
      // The filename is used as sent (aiohttp strips no directories): only the final path is
      // checked against the folder (400), and only the subfolder is created, so "a/b.png" with
      // no folder a/ fails on write (500).
      const dir = path.resolve(base, path.normalize(subfolder));
      let name = image.filename;
      let target = path.resolve(dir, name);
      if (target !== base && !target.startsWith(base + path.sep)) throw new HttpError(400);
      await mkdir(dir, { recursive: true });
      if (!overwrite) {
        const ext = path.extname(name);
        const stem = name.slice(0, name.length - ext.length);
        for (let i = 1; existsSync(target); i++) {
          if (readFileSync(target).equals(image.data)) break;
          name = `${stem} (${i})${ext}`;
          target = path.resolve(dir, name);
        }
      }
      await writeFile(target, image.data);
      sendJson(res, 200, { name, subfolder, type });
    },
  },
];
