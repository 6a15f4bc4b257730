/**
 * A tiny ComfyUI stand-in on 127.0.0.1:0 for client tests. It answers with HTTP bodies recorded
 * from a real ComfyUI 0.3.64 (test/fixtures/transcripts), so the client is tested against real
 * shapes, and it records every request it sees.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TRANSCRIPTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'transcripts');

export interface RecordedHttp {
  method: string;
  path: string;
  status: number;
  content_type?: string;
  body: unknown;
  request_body?: unknown;
  label?: string;
}

export function recordedHttp(scenario: string): RecordedHttp[] {
  const data = JSON.parse(readFileSync(join(TRANSCRIPTS, `${scenario}.json`), 'utf8')) as {
    events: Array<RecordedHttp & { source: string }>;
  };
  return data.events.filter((e) => e.source === 'http');
}

/** The n-th recorded call matching method, path (and an optional predicate). */
export function recorded(
  scenario: string,
  method: string,
  path: string,
  pick: (e: RecordedHttp) => boolean = () => true,
  n = 0,
): RecordedHttp {
  const hit = recordedHttp(scenario).filter((e) => e.method === method && e.path === path && pick(e))[n];
  if (!hit) throw new Error(`no recorded ${method} ${path} #${n} in ${scenario}`);
  return hit;
}

export interface StubReply {
  status: number;
  /** Objects and arrays are sent as JSON; strings as they are. */
  body?: unknown;
  contentType?: string;
  /** Never answer (timeout tests). */
  hang?: boolean;
  /** Custom writer (large or broken bodies). */
  write?: (res: ServerResponse) => void;
}

export function replyOf(e: RecordedHttp): StubReply {
  return { status: e.status, body: e.body, contentType: e.content_type };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type StubHandler = (req: SeenRequest) => StubReply | undefined;

export interface Stub {
  url: string;
  port: number;
  seen: SeenRequest[];
  handle(handler: StubHandler): void;
  close(): Promise<void>;
}

export async function startStub(initial: StubHandler = () => undefined): Promise<Stub> {
  let handler = initial;
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(request);
      const reply = handler(request) ?? { status: 404, body: '404: Not Found', contentType: 'text/plain' };
      if (reply.hang) return;
      if (reply.write) return reply.write(res);
      const isText = typeof reply.body === 'string' || reply.body === undefined;
      const payload = isText ? String(reply.body ?? '') : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? (isText ? 'text/plain' : 'application/json') });
      res.end(payload);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    handle: (h) => {
      handler = h;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A port nothing listens on: bind, note it, close. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}
