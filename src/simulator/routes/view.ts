import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FOLDER_TYPES, type FolderType } from '../data-dir.js';
import { HttpError } from '../http-util.js';
import type { Route } from './route.js';

const MIME: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif',
  '.bmp': 'image/bmp', '.mp4': 'video/mp4', '.webm': 'video/webm', '.flac': 'audio/flac', '.mp3': 'audio/mpeg',
  '.wav': 'audio/x-wav', '.json': 'application/json', '.txt': 'text/plain', '.glb': 'model/gltf-binary',
};
// Served as octet-stream so a browser never runs them.
const UNSAFE = new Set(['.html', '.htm', '.xhtml', '.js', '.mjs', '.css']);

/**
 * Resolve a /view query to a file path, with the server's checks in its order:
 * empty filename 400, `..` or leading `/` 400, bad type 400, subfolder escape 403,
 * then only the basename of filename counts. Returns undefined when filename is absent (404).
 */
export function resolveViewPath(root: (t: FolderType) => string, query: URLSearchParams): string | undefined {
  const raw = query.get('filename');
  if (raw === null) return undefined;
  // folder_paths.annotated_filepath: a suffix "[output]" etc. cuts the suffix plus the one
  // character before it (normally the space), and overrides `type`. Then the checks.
  let filename = raw;
  let type = query.get('type') ?? 'output';
  for (const t of FOLDER_TYPES) {
    const suffix = `[${t}]`;
    if (raw.endsWith(suffix)) {
      filename = raw.slice(0, Math.max(0, raw.length - suffix.length - 1));
      type = t;
      break;
    }
  }
  if (filename === '') throw new HttpError(400);
  if (filename.startsWith('/') || filename.includes('..')) throw new HttpError(400);
  if (!(FOLDER_TYPES as readonly string[]).includes(type)) throw new HttpError(400);
  const base = root(type as FolderType);
  const subfolder = query.get('subfolder') ?? '';
  let dir = base;
  if (subfolder) {
    dir = path.resolve(base, subfolder);
    // commonpath: a folder *named* "..x" (or, on POSIX, "..\\win") stays inside.
    const rel = path.relative(base, dir);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) throw new HttpError(403);
  }
  return path.join(dir, path.basename(filename));
}

export const viewRoutes: Route[] = [
  {
    method: 'GET',
    path: /^\/view$/,
    async handle({ req, res, url, ctx }) {
      const file = resolveViewPath((t) => ctx.files.folder(t), url.searchParams);
      if (!file) throw new HttpError(404);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) throw new HttpError(404);
      const ext = path.extname(file).toLowerCase();
      const type = UNSAFE.has(ext) ? 'application/octet-stream' : (MIME[ext] ?? 'application/octet-stream');
      res.writeHead(200, {
        'Content-Type': type,
        'Content-Length': info.size,
        'Content-Disposition': `filename="${path.basename(file)}"`,
      });
      if (req.method === 'HEAD') return void res.end();
      // Streamed: a 500 MB video never sits in memory.
      await new Promise<void>((resolve, reject) => {
        const stream = createReadStream(file);
        stream.on('error', reject);
        res.on('close', () => { stream.destroy(); resolve(); });
        stream.pipe(res).on('finish', resolve);
      });
    },
  },
];
