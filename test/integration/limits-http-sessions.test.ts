import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { silentLogger } from '../../src/logger.js';
import type { McpDeps } from '../../src/mcp/deps.js';
import { startHttpServer, type HttpServerHandle } from '../../src/mcp/http/index.js';
import { advance, advanceUntil, useFakeClock, useRealClock } from '../helpers/fake-clock.js';

/**
 * `serve --http` session limits: a cap on open sessions (COMFYWIRE_HTTP_MAX_SESSIONS) and an idle
 * expiry (COMFYWIRE_HTTP_SESSION_IDLE_MS), each on both sides, with the idle clock faked. The engine
 * is never started: sessions need no ComfyUI.
 */

const IDLE_MS = 60_000;
let dir: string;
let engine: Engine;
let http: HttpServerHandle;

async function start(env: Record<string, string>, deps: Partial<McpDeps> = {}): Promise<void> {
  const config = loadConfig({}, { envFile: path.join(dir, 'no.env'), overrides: { COMFYUI_URL: 'http://127.0.0.1:9', COMFYWIRE_OUTPUT_DIR: dir, ...env } });
  const logger = silentLogger();
  engine = new Engine({ config, logger });
  http = await startHttpServer({ deps: { engine, config, logger, cwd: dir, ...deps }, port: 0 });
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'comfywire-sessions-'));
});
afterEach(async () => {
  useRealClock();
  await http?.close();
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

/** One request; `sent` gets the ClientRequest (to abort an SSE stream). */
function send(method: string, body: unknown, session?: string, sent?: (req: ClientRequest) => void): Promise<Answer> {
  const url = new URL(http.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${http.token}`,
          ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    sent?.(req);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function initialize(): Promise<string> {
  const r = await send('POST', INIT);
  expect(r.status).toBe(200);
  const id = r.headers['mcp-session-id'];
  expect(typeof id).toBe('string');
  // The client's half of the handshake, as a real client sends it.
  await send('POST', { jsonrpc: '2.0', method: 'notifications/initialized' }, id as string);
  return id as string;
}

describe('HTTP session cap', () => {
  it('the session beyond the cap is refused with 503, what to do and when; the others keep working; a DELETE makes room', async () => {
    await start({ COMFYWIRE_HTTP_MAX_SESSIONS: '3' });
    const ids = [await initialize(), await initialize(), await initialize()];
    expect(http.openSessions()).toBe(3);
    const refused = await send('POST', INIT);
    expect(refused.status).toBe(503);
    const message = JSON.parse(refused.body).error.message as string;
    expect(message).toMatch(/^Too many open MCP sessions \(3 of 3\)\. Close unused ones \(HTTP DELETE \/mcp with their Mcp-Session-Id\), or raise COMFYWIRE_HTTP_MAX_SESSIONS\. Idle sessions close after 30 min; the next in \d+ s\.$/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(1800);
    expect(http.openSessions()).toBe(3);
    // Nothing else degrades: every open session still answers.
    for (const id of ids) expect((await send('POST', LIST, id)).status).toBe(200);
    expect((await send('DELETE', undefined, ids[0])).status).toBe(200);
    expect(http.openSessions()).toBe(2);
    await initialize();
    expect(http.openSessions()).toBe(3);
  });

  it('just under the cap, an initialize is accepted', async () => {
    await start({ COMFYWIRE_HTTP_MAX_SESSIONS: '2' });
    await initialize();
    expect(http.openSessions()).toBe(1);
    await initialize();
    expect(http.openSessions()).toBe(2);
    expect((await send('POST', INIT)).status).toBe(503);
  });
});

describe('HTTP session idle expiry', () => {
  it('a session used within the idle limit lives on; one left alone past it is closed, and its id then says "expired"', async () => {
    useFakeClock();
    await start({ COMFYWIRE_HTTP_SESSION_IDLE_MS: String(IDLE_MS) });
    const id = await initialize();
    await advance(IDLE_MS - 1000);
    expect((await send('POST', LIST, id)).status).toBe(200); // just under: alive, and the clock restarts
    await advance(IDLE_MS - 1000);
    expect(http.openSessions()).toBe(1);
    expect((await send('POST', LIST, id)).status).toBe(200);
    await advanceUntil(() => http.openSessions() === 0, IDLE_MS + 2000, { stepMs: 250 });
    const late = await send('POST', LIST, id);
    expect(late.status).toBe(404);
    expect(JSON.parse(late.body).error.message).toBe(
      'Session expired after 1 min without a request: initialize again (COMFYWIRE_HTTP_SESSION_IDLE_MS sets the limit).',
    );
    // An id never issued is still "not found", and a new session works.
    expect(JSON.parse((await send('POST', LIST, 'never-issued')).body).error.message).toMatch(/^Session not found/);
    const again = await initialize();
    expect((await send('POST', LIST, again)).status).toBe(200);
  });

  it('expires no sooner than the limit: at limit - 500 ms still open, gone by limit + 500 ms', async () => {
    useFakeClock();
    await start({ COMFYWIRE_HTTP_SESSION_IDLE_MS: String(IDLE_MS) });
    await initialize();
    await advance(IDLE_MS - 500, { stepMs: 250 });
    expect(http.openSessions()).toBe(1);
    await advance(1000, { stepMs: 250 });
    expect(http.openSessions()).toBe(0);
  });

  it('an open SSE stream counts as activity: the session outlives the limit while it is open, and expires after it closes', async () => {
    useFakeClock();
    await start({ COMFYWIRE_HTTP_SESSION_IDLE_MS: String(IDLE_MS) });
    const id = await initialize();
    let stream: ClientRequest | undefined;
    const ended = send('GET', undefined, id, (req) => (stream = req)).catch(() => undefined);
    await advance(3 * IDLE_MS, { stepMs: 5000 });
    expect(http.openSessions()).toBe(1);
    expect((await send('POST', LIST, id)).status).toBe(200);
    stream!.destroy();
    await ended;
    await advance(IDLE_MS - 1000, { stepMs: 1000 });
    expect(http.openSessions()).toBe(1);
    await advanceUntil(() => http.openSessions() === 0, 3000, { stepMs: 250 });
  });

  it('an in-flight call counts as activity: a tools/call longer than the limit keeps its session', async () => {
    useFakeClock();
    let release!: (e: Error) => void;
    const gate = new Promise<never>((_, reject) => (release = reject));
    await start({ COMFYWIRE_HTTP_SESSION_IDLE_MS: String(IDLE_MS) }, { prepare: () => gate });
    const id = await initialize();
    const call = send('POST', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'generate_image', arguments: { prompt: 'a fox', wait: false } } }, id);
    await advance(3 * IDLE_MS, { stepMs: 5000 });
    expect(http.openSessions()).toBe(1);
    release(new Error('released by the test'));
    const answer = await call;
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('released by the test');
    await advance(IDLE_MS - 1000, { stepMs: 1000 });
    expect(http.openSessions()).toBe(1);
    await advanceUntil(() => http.openSessions() === 0, 3000, { stepMs: 250 });
  });
});
