import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { ViewFault } from '../faults.js';
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
      const fault = ctx.faults.viewFault;
      const length = fault?.kind === 'oversize' ? (fault.declareLength ? fault.bytes : undefined) : info.size;
      res.writeHead(200, {
        'Content-Type': type,
        ...(length !== undefined ? { 'Content-Length': length } : {}),
        'Content-Disposition': `filename="${path.basename(file)}"`,
      });
      if (req.method === 'HEAD') return void res.end();
      const hold = ctx.faults.takeViewHold();
      if (hold) return sendHeld(res, await readFile(file), hold);
      if (fault) return sendFaulty(res, await readFile(file), fault);
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

/**
 * The file trickled (a chunk every `everyMs`, on the global timers) or followed by zeros up to
 * `bytes`; stops when the client goes away.
 */
async function sendFaulty(res: ServerResponse, data: Buffer, fault: ViewFault): Promise<void> {
  if (fault.kind === 'oversize') {
    const pad = Buffer.alloc(64 * 1024);
    res.write(data.subarray(0, fault.bytes));
    for (let left = fault.bytes - data.length; left > 0 && !res.destroyed; left -= pad.length) {
      // Backpressure: a client that stops reading holds the server here, not in memory.
      if (!res.write(left >= pad.length ? pad : pad.subarray(0, left))) await drainedOrClosed(res);
    }
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    let offset = 0;
    const next = (): void => {
      if (res.destroyed) return resolve();
      res.write(data.subarray(offset, offset + fault.bytesPerChunk));
      offset += fault.bytesPerChunk;
      if (offset >= data.length) {
        res.end();
        return resolve();
      }
      setTimeout(next, fault.everyMs);
    };
    res.on('close', () => resolve());
    next();
  });
}

/**
 * The first `afterBytes` bytes (at least the last byte is always held back), then nothing until
 * the hold is released (or the client left), then the rest.
 */
async function sendHeld(res: ServerResponse, data: Buffer, hold: { afterBytes: number; reached(): void; released: Promise<void> }): Promise<void> {
  const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
  const first = Math.max(0, Math.min(hold.afterBytes, data.length - 1));
  res.write(data.subarray(0, first));
  hold.reached();
  await Promise.race([hold.released, closed]);
  if (!res.destroyed) res.end(data.subarray(first));
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
