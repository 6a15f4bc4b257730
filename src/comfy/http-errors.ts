import {
  CancelledError,
  ComfyAuthRefusedError,
  ComfyHttpError,
  ComfyUnreachableError,
  type ComfywireError,
} from '../errors.js';

/**
 * Transport failures (no HTTP status) and non-2xx statuses mapped onto the comfywire error
 * hierarchy, so every caller of ComfyUI reports "unreachable", "timed out", "refused our
 * credentials" and "answered with an error" the same way.
 */

/** Failures to get a connection going (or kept); the request never reached ComfyUI's handler. */
export const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH',
  'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED',
]);
/** A name that does not resolve will not resolve a moment later either. */
export const NOT_RETRIED_CODES = new Set(['ENOTFOUND']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** The first `code` found on an error, its cause, or (happy-eyeballs) its aggregated errors. */
export function errorCode(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 4) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET' && e.code !== 'UND_ERR_ABORTED') {
    return e.code;
  }
  const inner = errorCode(e.cause, depth + 1) ?? (Array.isArray(e.errors) ? errorCode(e.errors[0], depth + 1) : undefined);
  return inner ?? (typeof e.code === 'string' ? e.code : undefined);
}

export interface TransportContext {
  url: string;
  timeoutMs: number;
  callerSignal?: AbortSignal | undefined;
  timeoutSignal?: AbortSignal | undefined;
}

/** A failure below HTTP (no status to read) as a comfywire error. */
export function transportError(cause: unknown, ctx: TransportContext): ComfywireError {
  if (cause instanceof CancelledError) return cause;
  if (ctx.callerSignal?.aborted) {
    return new CancelledError(`The request to ${ctx.url} was cancelled.`, { cause, context: { url: ctx.url } });
  }
  const code = errorCode(cause);
  if (ctx.timeoutSignal?.aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new ComfyUnreachableError(ctx.url, {
      cause,
      hint:
        `No answer within ${ctx.timeoutMs} ms. ComfyUI may be busy (loading a model can block it), ` +
        `or COMFYUI_URL points at a host that drops packets. Check the address, or raise COMFYWIRE_REQUEST_TIMEOUT_MS.`,
      context: { reason: 'timeout', timeoutMs: ctx.timeoutMs },
    });
  }
  const hint =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? `The host name in ${ctx.url} does not resolve (DNS). Check the spelling of COMFYUI_URL, or use the IP address.`
      : undefined;
  return new ComfyUnreachableError(ctx.url, { cause, context: { reason: code ?? 'unknown' }, ...(hint ? { hint } : {}) });
}

/** A non-2xx status as a comfywire error. */
export function statusError(method: string, url: string, status: number, body: string): ComfywireError {
  if (status === 401 || status === 403) return new ComfyAuthRefusedError(url, status, { context: { body: body.slice(0, 300) } });
  return new ComfyHttpError(method, url, status, body);
}
