import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { exitOf, runCli, startCli } from '../helpers/cli.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { startStdioServer, type StdioServer } from '../helpers/mcp-stdio.js';

/**
 * Secrets and exposure, on the built CLI. A run configured with every kind of secret, against a
 * hostile proxy in front of the simulator that echoes our credentials back in its answers: not one
 * secret may appear in any log line, error, tool result, `doctor` or `tail` output. Then: stdio
 * opens no TCP port, and a ComfyUI off this machine is warned about once in the log and in `doctor`.
 */

const PASSWORD = 'url-pass-S3cret-a1';
const HTTP_TOKEN = 'http-token-S3cret-b2';
const DB_PASSWORD = 'db-pass-S3cret-c3';
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');
const SECRETS = [PASSWORD, HTTP_TOKEN, DB_PASSWORD, BASIC, encodeURIComponent(PASSWORD)];

/** Forwards to the simulator (HTTP and the WebSocket upgrade) when the basic credentials match; echoes them back where it can. */
async function hostileProxy(sim: Simulator): Promise<Server> {
  const target = new URL(sim.url);
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    if (auth !== `Basic ${BASIC}`) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`bad credentials: ${auth}`);
      return;
    }
    const echo = `you sent Authorization: ${auth}; decoded alice:${PASSWORD}`;
    if (req.url?.startsWith('/models/checkpoints')) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(echo);
      return;
    }
    const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      if (req.url === '/system_stats') {
        let body = '';
        up.on('data', (c: Buffer) => (body += c.toString()));
        up.on('end', () => {
          const stats = JSON.parse(body) as { system: Record<string, unknown> };
          stats.system.os = `linux (${echo})`;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
        });
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`), '', ''];
      up.write(lines.join('\r\n'));
      up.write(head);
      up.pipe(socket).pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Inodes of the TCP sockets in LISTEN state on this machine (IPv4 and IPv6). */
function listeningInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') inodes.add(cols[9]!);
    }
  }
  return inodes;
}

/** The listening TCP sockets a process holds, read from /proc (Linux only). */
function listeningSocketsOf(pid: number): string[] {
  const listening = listeningInodes();
  return readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .map((link) => /^socket:\[(\d+)\]$/.exec(link)?.[1])
    .filter((inode): inode is string => inode !== undefined && listening.has(inode));
}

const linux = process.platform === 'linux';

describe('secrets never leave the process', () => {
  let sim: Simulator;
  let proxy: Server;
  let work: string;
  let server: StdioServer | undefined;
  const captured: Array<[string, string]> = [];

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, stepDelayMs: 10 });
    proxy = await hostileProxy(sim);
    work = mkdtempSync(join(tmpdir(), 'comfywire-secrets-'));
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((r) => proxy.close(r));
    await sim.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('in no log line, error, tool result, doctor or tail output of a run configured with secrets', async () => {
    const port = (proxy.address() as AddressInfo).port;
    const env = {
      COMFYUI_URL: `http://alice:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`,
      COMFYWIRE_HTTP_TOKEN: HTTP_TOKEN,
      DATABASE_URL: `postgres://cw:${DB_PASSWORD}@127.0.0.1:9/cw`,
      COMFYWIRE_OUTPUT_DIR: join(work, 'out'),
      COMFYWIRE_WORKFLOWS_DIR: WORKFLOWS_DIR,
      COMFYWIRE_LOG_LEVEL: 'debug',
    };
    server = await startStdioServer({ comfyUrl: env.COMFYUI_URL, cwd: work, outputDir: env.COMFYWIRE_OUTPUT_DIR, workflowsDir: WORKFLOWS_DIR, env });
    const calls: Array<[string, Record<string, unknown>]> = [
      ['list_workflows', {}],
      ['get_system_stats', {}],
      ['list_models', { folder: 'checkpoints' }],
      ['get_queue', {}],
      ['generate_image', { prompt: 'a red fox', steps: 2 }],
      ['get_workflow_status', {}],
      ['cancel_job', { prompt_id: 'no-such-prompt' }],
      ['upload_image', { path: 'missing.png' }],
    ];
    const results: Record<string, CallToolResult> = {};
    for (const [name, args] of calls) {
      results[name] = await server.call(name, args);
      captured.push([`tool ${name}`, JSON.stringify(results[name])]);
    }
    captured.push(['resources', JSON.stringify(await server.client.listResources())]);
    // The run did reach ComfyUI through the proxy (so auth was sent), and the proxy's echoes came back masked.
    expect(results['generate_image']!.isError).toBeFalsy();
    const stats = JSON.stringify(results['get_system_stats']);
    expect(stats).toContain(`http://127.0.0.1:${port}`);
    expect(stats).toContain('Authorization: Basic ***');
    expect(JSON.stringify(results['list_models'])).toContain('***');
    expect(results['list_models']!.isError).toBe(true);

    const attached = await startCli(['tail', '--attach', String(server.pid)], /attached to comfywire pid/, { cwd: work, env });
    const tail = await startCli(['tail'], /connected to .* as an observer/, { cwd: work, env });
    await server.call('generate_image', { prompt: 'another fox', steps: 2 });
    await attached.waitForOutput('stdout', /success|executed|execution_success/);
    attached.child.kill('SIGINT');
    tail.child.kill('SIGINT');
    await exitOf(attached.child);
    await exitOf(tail.child);
    captured.push(['tail --attach', JSON.stringify(attached.output())], ['tail', JSON.stringify(tail.output())]);

    for (const args of [['doctor'], ['doctor', '--json'], ['generate', '--prompt', 'a cat', '--steps', '2']]) {
      const r = await runCli(args, { cwd: work, env });
      captured.push([args.join(' '), `${r.stdout}\n${r.stderr}`]);
    }
    expect(captured.at(-3)![1]).toMatch(/ok +config +ComfyUI http:\/\/127\.0\.0\.1:\d+; .*auth: basic \(user alice\)/);
    const http = await startCli(['serve', '--http', '--port', '0'], /comfywire MCP server on http/, { cwd: work, env });
    http.child.kill('SIGTERM');
    await exitOf(http.child);
    captured.push(['serve --http', JSON.stringify(http.output())]);
    const refused = await runCli(['doctor'], { cwd: work, env: { ...env, COMFYUI_AUTH_TOKEN: 'other-token-d4' } });
    expect(refused.stderr).toMatch(/COMFYUI_URL=.*carries credentials/);
    captured.push(['config refused', refused.stderr + refused.stdout]);

    await server.close();
    captured.push(['server log', server.stderr()]);
    expect(server.stderr()).toMatch(/get_system_stats|list_models/);

    const hits = captured.flatMap(([where, text]) => SECRETS.filter((s) => text.includes(s)).map((s) => `${where}: ${s}`));
    expect(hits).toEqual([]);
  }, 120_000);
});

describe('exposure', () => {
  let sim: Simulator;
  let work: string;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, host: '0.0.0.0', stepDelayMs: 5 });
    work = mkdtempSync(join(tmpdir(), 'comfywire-exposure-'));
  });
  afterAll(async () => {
    await sim.close();
    rmSync(work, { recursive: true, force: true });
  });

  (linux ? it : it.skip)('serve on stdio opens no listening TCP port (serve --http, for contrast, opens one)', async () => {
    const server = await startStdioServer({ comfyUrl: sim.url, cwd: work, outputDir: join(work, 'out'), workflowsDir: WORKFLOWS_DIR });
    try {
      expect((await server.call('list_workflows')).isError).toBeFalsy();
      expect(listeningSocketsOf(server.pid!)).toEqual([]);
    } finally {
      await server.close();
    }
    const http = await startCli(['serve', '--http', '--port', '0'], /comfywire MCP server on http/, { cwd: work, env: { COMFYUI_URL: sim.url } });
    try {
      expect(listeningSocketsOf(http.child.pid!)).toHaveLength(1);
    } finally {
      http.child.kill('SIGTERM');
      await exitOf(http.child);
    }
  });

  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  (lan ? it : it.skip)('a ComfyUI off this machine: one warning in the log however many calls, and a warn line in doctor', async () => {
    const url = `http://${lan}:${sim.port}`;
    const server = await startStdioServer({ comfyUrl: url, cwd: work, outputDir: join(work, 'out'), workflowsDir: WORKFLOWS_DIR });
    try {
      for (let i = 0; i < 3; i++) expect((await server.call('get_queue')).isError).toBeFalsy();
    } finally {
      await server.close();
    }
    const warning = `prompts and images cross the network unencrypted to ${url}`;
    expect(server.stderr().split(warning).length - 1).toBe(1);
    const doctor = await runCli(['doctor'], { cwd: work, env: { COMFYUI_URL: url, COMFYWIRE_OUTPUT_DIR: join(work, 'out') } });
    expect(doctor.stderr).toMatch(new RegExp(`^warn +exposure +${warning.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`, 'm'));
    expect(doctor.stderr).toMatch(/fix: Use https:\/\/ .* or an SSH tunnel/);
    // Loopback: neither.
    const local = await runCli(['doctor'], { cwd: work, env: { COMFYUI_URL: `http://127.0.0.1:${sim.port}`, COMFYWIRE_OUTPUT_DIR: join(work, 'out') } });
    expect(local.stderr).not.toMatch(/^warn +exposure/m);
  });
});
