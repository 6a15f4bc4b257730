import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine.js';
import { ComfywireError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import type { McpDeps } from '../../src/mcp/deps.js';
import { startHttpServer, type HttpServerHandle } from '../../src/mcp/http/index.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';

/** The Streamable HTTP transport on a free loopback port, backed by a real engine and the simulator. */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let sim: Simulator;
let engine: Engine;
let deps: McpDeps;
let http: HttpServerHandle;
let outputDir: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, stepDelayMs: 20 });
  outputDir = mkdtempSync(path.join(tmpdir(), 'comfywire-http-'));
  const config = loadConfig(
    {},
    {
      envFile: path.join(outputDir, 'no.env'),
      overrides: { COMFYUI_URL: sim.url, COMFYWIRE_OUTPUT_DIR: outputDir, COMFYWIRE_WORKFLOWS_DIR: path.join(REPO, 'workflows') },
    },
  );
  const logger = silentLogger();
  engine = new Engine({ config, logger }).start();
  deps = { engine, config, logger, cwd: outputDir };
  http = await startHttpServer({ deps, port: 0 });
});

afterAll(async () => {
  await http.close();
  await engine.close();
  await sim.close();
  rmSync(outputDir, { recursive: true, force: true });
});

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** A raw request: node:http lets a test send any Host and Origin header. */
function raw(headers: Record<string, string>, body = INIT, method = 'POST'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(http.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function connect(token = http.token): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: bearer(token) } });
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

test('binds loopback with a generated token and reports the URL', () => {
  expect(http.url).toBe(`http://127.0.0.1:${http.port}/mcp`);
  expect(http.token.length).toBeGreaterThanOrEqual(40);
});

test('answers tools/list with the right token', async () => {
  const { client } = await connect();
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['generate_image', 'list_workflows', 'get_workflow_status']));
  const { prompts } = await client.listPrompts();
  expect(prompts.length).toBe(3);
  await client.close();
});

test('refuses a missing or wrong token with 401 and a JSON-RPC error', async () => {
  for (const headers of [{}, bearer('wrong'), bearer(`${http.token}x`), { authorization: http.token }]) {
    const r = await raw(headers);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.parse(r.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(/Unauthorized/) } });
  }
  await expect(connect('wrong')).rejects.toThrow();
});

test('refuses a foreign Origin with 403, accepts a loopback one', async () => {
  const foreign = await raw({ ...bearer(http.token), origin: 'https://evil.example' });
  expect(foreign.status).toBe(403);
  expect(JSON.parse(foreign.body).error.message).toMatch(/Origin/);
  expect((await raw({ ...bearer(http.token), origin: 'null' })).status).toBe(403);
  const local = await raw({ ...bearer(http.token), origin: 'http://localhost:6274' });
  expect(local.status).toBe(200);
});

test('refuses a Host that is not this server (DNS rebinding) with 403', async () => {
  const r = await raw({ ...bearer(http.token), host: `rebind.evil.example:${http.port}` });
  expect(r.status).toBe(403);
  expect(JSON.parse(r.body).error.message).toMatch(/Host/);
  expect((await raw({ ...bearer(http.token), host: `localhost:${http.port}` })).status).toBe(200);
});

test('sessions: an unknown session id is 404; a terminated session is gone', async () => {
  expect((await raw({ ...bearer(http.token), 'mcp-session-id': 'nope' })).status).toBe(404);
  const { client, transport } = await connect();
  const id = transport.sessionId!;
  expect(id).toBeTruthy();
  await transport.terminateSession();
  await client.close();
  const after = await raw({ ...bearer(http.token), 'mcp-session-id': id }, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
  expect(after.status).toBe(404);
});

test('refuses to bind a non-loopback address without a configured token', async () => {
  const attempt = startHttpServer({ deps, host: '0.0.0.0', port: 0 });
  await expect(attempt).rejects.toBeInstanceOf(ComfywireError);
  await expect(attempt).rejects.toMatchObject({ code: 'CONFIG_INVALID', hint: expect.stringMatching(/COMFYWIRE_HTTP_TOKEN/) });
});

test('uses a configured token as given', async () => {
  const other = await startHttpServer({ deps, port: 0, token: 'configured-secret-token' });
  try {
    expect(other.token).toBe('configured-secret-token');
    const transport = new StreamableHTTPClientTransport(new URL(other.url), { requestInit: { headers: bearer('configured-secret-token') } });
    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(transport);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await client.close();
  } finally {
    await other.close();
  }
});

test('guards: loopback detection, origin rules, token comparison', async () => {
  const { isLoopback, originAllowed, tokenMatches } = await import('../../src/mcp/http/index.js');
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(h)).toBe(true);
  for (const h of ['0.0.0.0', '192.168.1.2', '::', 'example.com', '128.0.0.1']) expect(isLoopback(h)).toBe(false);
  expect(originAllowed(undefined, [])).toBe(true);
  expect(originAllowed('http://127.0.0.1:3000', [])).toBe(true);
  expect(originAllowed('https://app.example', ['https://app.example'])).toBe(true);
  expect(originAllowed('https://localhost.evil.example', [])).toBe(false);
  expect(originAllowed('file://', [])).toBe(false);
  expect(tokenMatches('Bearer abc', 'abc')).toBe(true);
  expect(tokenMatches('bearer abc', 'abc')).toBe(true);
  expect(tokenMatches('Bearer abcd', 'abc')).toBe(false);
  expect(tokenMatches('Basic abc', 'abc')).toBe(false);
  expect(tokenMatches(undefined, '')).toBe(false);
});
