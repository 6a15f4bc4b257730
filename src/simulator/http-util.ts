import type { IncomingMessage, ServerResponse } from 'node:http';

/** Response helpers matching aiohttp's defaults (content types, empty bodies, the 500 text). */
export const JSON_TYPE = 'application/json; charset=utf-8';
export const MAX_BODY_BYTES = 100 * 1024 * 1024;

export class HttpError extends Error {
  constructor(readonly status: number, readonly body = '', readonly contentType = 'application/octet-stream') {
    super(`HTTP ${status}`);
    this.name = 'HttpError';
  }
}

/** What aiohttp answers for an unhandled exception in a handler (e.g. invalid JSON). */
export const internalError = (): HttpError => new HttpError(500, '500 Internal Server Error\n\nServer got itself in trouble', 'text/plain; charset=utf-8');

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'application/octet-stream', 'Content-Length': 0 });
  res.end();
}

export function sendError(res: ServerResponse, err: HttpError): void {
  res.writeHead(err.status, { 'Content-Type': err.contentType, 'Content-Length': Buffer.byteLength(err.body) });
  res.end(err.body);
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, '413: Request Entity Too Large', 'text/plain; charset=utf-8');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** request.json(): anything unparsable is a 500 on the real server. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw internalError();
  }
}

/** Bodies that are optional (POST /interrupt): empty or invalid JSON reads as undefined. */
export async function readOptionalJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  try {
    return body.length ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
