import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FileRef } from '../../streams/messages.js';
import { CancelledError, ComfywireError, DownloadFailedError } from '../errors.js';
import type { ComfyHttp } from './http.js';
import { errorCode } from './http-errors.js';
import { assertRealDirInside, safeTarget } from './safe-path.js';

/**
 * GET /view streamed to disk. The body is piped into a temp file next to the target (same
 * file system, so the final step is atomic) and only then given its name. Memory stays flat
 * whatever the size: stream.pipeline applies backpressure to the socket.
 */

/** `name (1).png` ... `name (N).png` before giving up; a folder with that many copies is a bug elsewhere. */
const MAX_NAME_ATTEMPTS = 10_000;

/** Errors of link(2) that mean "this file system cannot hard-link", not "the name is taken". */
const NO_LINK_CODES = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

function numbered(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: unknown } | null)?.code as string | undefined;
}

/**
 * Gives the finished temp file its final name without ever replacing an existing file: link(2)
 * fails with EEXIST instead of overwriting, so two downloads racing for one name both survive.
 * Where hard links are unsupported, an `open('wx')` reservation followed by rename does the same.
 */
async function placeWithoutOverwrite(tmp: string, dir: string, name: string): Promise<string> {
  for (let n = 0; n < MAX_NAME_ATTEMPTS; n++) {
    const candidate = join(dir, numbered(name, n));
    try {
      await link(tmp, candidate);
      await unlink(tmp);
      return candidate;
    } catch (error) {
      if (codeOf(error) === 'EEXIST') continue;
      if (!NO_LINK_CODES.has(codeOf(error) ?? '')) throw error;
    }
    try {
      await (await open(candidate, 'wx')).close();
    } catch (error) {
      if (codeOf(error) === 'EEXIST') continue;
      throw error;
    }
    try {
      await rename(tmp, candidate);
    } catch (error) {
      await rm(candidate, { force: true });
      throw error;
    }
    return candidate;
  }
  throw new DownloadFailedError(`Could not find a free name for ${name} in ${dir} after ${MAX_NAME_ATTEMPTS} tries.`);
}

/** Drops a response body we will not read; undici reports that as an abort, which nobody needs to hear. */
function discard(body: NodeJS.ReadableStream & { destroy(): unknown }): void {
  body.on('error', () => undefined);
  body.destroy();
}

function describeRef(ref: FileRef): string {
  return `${ref.type}/${ref.subfolder ? `${ref.subfolder}/` : ''}${ref.filename}`;
}

/**
 * The body went silent for the client's request timeout (undici's bodyTimeout: the wait between
 * chunks, so a slow but steady download of any length is never cut; only a stopped one is).
 */
function idleTimeout(ref: FileRef, url: string, idleMs: number, received: number, cause: unknown): DownloadFailedError {
  return new DownloadFailedError(
    `ComfyUI stopped sending ${describeRef(ref)}: no data for ${idleMs} ms after ${received} bytes. The partial file was removed.`,
    {
      cause,
      hint: 'ComfyUI or the network in between stalled. Retry the download; if ComfyUI is only very slow, raise COMFYWIRE_REQUEST_TIMEOUT_MS.',
      context: { url, reason: 'idle_timeout', idleTimeoutMs: idleMs, bytesReceived: received },
    },
  );
}

export async function downloadFile(
  http: ComfyHttp,
  ref: FileRef,
  destDir: string,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<{ path: string; bytes: number }> {
  const { dir, name } = safeTarget(destDir, ref); // before any network or disk work
  const query = { filename: ref.filename, subfolder: ref.subfolder ?? '', type: ref.type };
  const url = http.url('/view', query);
  const { status, body } = await http.stream({ method: 'GET', path: '/view', query, signal: opts.signal, allowStatus: [404] });
  if (status === 404) {
    discard(body);
    throw new DownloadFailedError(`ComfyUI has no file ${describeRef(ref)} (HTTP 404).`, {
      hint: 'Take filename, subfolder and type exactly from the job outputs. Temp files (previews) vanish when ComfyUI restarts.',
      context: { url, status },
    });
  }

  const tmp = join(dir, `.comfywire-${randomUUID()}.part`);
  try {
    await mkdir(dir, { recursive: true });
    await assertRealDirInside(destDir, dir);
    await pipeline(body, createWriteStream(tmp, { flags: 'wx' }), opts.signal ? { signal: opts.signal } : {});
    const { size } = await stat(tmp);
    return { path: await placeWithoutOverwrite(tmp, dir, name), bytes: size };
  } catch (error) {
    discard(body);
    const received = await stat(tmp).then((st) => st.size, () => 0);
    await rm(tmp, { force: true });
    if (opts.signal?.aborted) {
      throw new CancelledError(`The download of ${describeRef(ref)} was cancelled.`, { cause: error, context: { url } });
    }
    if (error instanceof ComfywireError) throw error;
    if (errorCode(error) === 'UND_ERR_BODY_TIMEOUT') throw idleTimeout(ref, url, http.timeoutMs, received, error);
    throw new DownloadFailedError(`Downloading ${describeRef(ref)} from ${url} failed: ${(error as Error).message}`, {
      cause: error,
      hint: 'The connection broke or the disk refused the write; check free space and permissions of the destination, then retry.',
      context: { url, destDir },
    });
  }
}
