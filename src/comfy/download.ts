import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FileRef } from '../../streams/messages.js';
import { CancelledError, ComfywireError, DownloadFailedError } from '../errors.js';
import type { ComfyHttp } from './http.js';
import { CONNECTION_CODES, errorCode } from './http-errors.js';
import { DownloadGuard, NO_DOWNLOAD_LIMITS, declaredTooLarge, describeRef, type DownloadLimits } from './download-limits.js';
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

export interface DownloadOptions {
  signal?: AbortSignal | undefined;
  /** Size cap, deadline and least throughput of this file; none when absent. */
  limits?: DownloadLimits | undefined;
}

/**
 * A download whose connection broke (reset, closed before the last byte) is tried again this
 * many times, from the start into a fresh temp file, after DOWNLOAD_RETRY_DELAY_MS, then twice
 * and four times that (0.25, 0.5, 1 s). The file's limits (deadline, throughput) span every try.
 */
export const DOWNLOAD_RETRIES = 3;
export const DOWNLOAD_RETRY_DELAY_MS = 250;

export async function downloadFile(
  http: ComfyHttp,
  ref: FileRef,
  destDir: string,
  opts: DownloadOptions = {},
): Promise<{ path: string; bytes: number }> {
  const { dir, name } = safeTarget(destDir, ref); // before any network or disk work
  const query = { filename: ref.filename, subfolder: ref.subfolder ?? '', type: ref.type };
  const url = http.url('/view', query);
  const limits = opts.limits ?? NO_DOWNLOAD_LIMITS;
  // From the request on: the deadline covers the wait for headers too.
  const guard = new DownloadGuard(ref, url, limits, opts.signal);
  const target: Target = { ref, url, query, dir, name, destDir, limits, caller: opts.signal };
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fetchInto(http, guard, target);
      } catch (error) {
        if (!(error instanceof DownloadFailedError && error.context['broken'] === true)) throw error;
        if (attempt >= DOWNLOAD_RETRIES) throw gaveUp(error, attempt + 1);
        await pause(DOWNLOAD_RETRY_DELAY_MS * 2 ** attempt, guard.signal).catch(() => {
          throw guard.failure ?? ourReason(target.caller) ?? new CancelledError(`The download of ${describeRef(ref)} was cancelled.`, { context: { url } });
        });
      }
    }
  } finally {
    guard.stop();
  }
}

/** A wait on the global timers (a test's fake clock moves it), cut short by the signal. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

function gaveUp(last: DownloadFailedError, tries: number): DownloadFailedError {
  return new DownloadFailedError(`${last.message} Tried ${tries} times; no partial file was kept.`, {
    cause: last,
    hint: last.hint ?? 'The connection to ComfyUI keeps breaking. Check the network in between, then ask for the job status again to retry.',
    context: { ...last.context, tries },
  });
}

/** A reason of ours (the job timeout, say) tells better than "cancelled" why the file is missing. */
function ourReason(signal: AbortSignal | undefined): ComfywireError | undefined {
  return signal?.aborted && signal.reason instanceof ComfywireError ? signal.reason : undefined;
}

interface Target {
  ref: FileRef;
  url: string;
  query: Record<string, string>;
  dir: string;
  name: string;
  destDir: string;
  limits: DownloadLimits;
  caller: AbortSignal | undefined;
}

async function fetchInto(http: ComfyHttp, guard: DownloadGuard, t: Target): Promise<{ path: string; bytes: number }> {
  const { ref, url } = t;
  let response: Awaited<ReturnType<ComfyHttp['stream']>>;
  try {
    response = await http.stream({ method: 'GET', path: '/view', query: t.query, signal: guard.signal, allowStatus: [404] });
  } catch (error) {
    throw guard.failure ?? ourReason(t.caller) ?? error;
  }
  guard.newAttempt();
  const { status, body, headers } = response;
  if (status === 404) {
    discard(body);
    throw new DownloadFailedError(`ComfyUI has no file ${describeRef(ref)} (HTTP 404).`, {
      hint: 'Take filename, subfolder and type exactly from the job outputs. Temp files (previews) vanish when ComfyUI restarts.',
      context: { url, status },
    });
  }
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > t.limits.maxBytes) {
    discard(body);
    throw declaredTooLarge(ref, url, declared, t.limits.maxBytes);
  }

  const tmp = join(t.dir, `.comfywire-${randomUUID()}.part`);
  try {
    await mkdir(t.dir, { recursive: true });
    await assertRealDirInside(t.destDir, t.dir);
    await pipeline(body, guard.counter(), createWriteStream(tmp, { flags: 'wx' }), { signal: guard.signal });
    const { size } = await stat(tmp);
    // A body that ended short of its Content-Length is a broken connection, never a file.
    if (Number.isFinite(declared) && size !== declared) throw truncated(ref, url, size, declared);
    return { path: await placeWithoutOverwrite(tmp, t.dir, t.name), bytes: size };
  } catch (error) {
    discard(body);
    const received = await stat(tmp).then((st) => st.size, () => 0);
    await rm(tmp, { force: true });
    if (guard.failure) throw guard.failure;
    if (t.caller?.aborted) {
      throw ourReason(t.caller) ?? new CancelledError(`The download of ${describeRef(ref)} was cancelled.`, { cause: error, context: { url } });
    }
    if (error instanceof ComfywireError) throw error;
    const code = errorCode(error);
    if (code === 'UND_ERR_BODY_TIMEOUT') throw idleTimeout(ref, url, http.timeoutMs, received, error);
    const broken = code !== undefined && CONNECTION_CODES.has(code);
    throw new DownloadFailedError(`Downloading ${describeRef(ref)} from ${url} failed: ${(error as Error).message}`, {
      cause: error,
      hint: 'The connection broke or the disk refused the write; check free space and permissions of the destination, then retry.',
      context: { url, destDir: t.destDir, bytesReceived: received, ...(broken ? { broken: true } : {}) },
    });
  }
}

function truncated(ref: FileRef, url: string, size: number, declared: number): DownloadFailedError {
  return new DownloadFailedError(`ComfyUI's answer for ${describeRef(ref)} ended after ${size} of its ${declared} bytes.`, {
    hint: 'The connection broke in the middle of the file; ask for the job status again to retry.',
    context: { url, reason: 'truncated', bytesReceived: size, contentLength: declared, broken: true },
  });
}
