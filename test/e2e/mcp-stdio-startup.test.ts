import { execFileSync, spawn } from 'node:child_process';
import { constants, copyFileSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, childEnv, exitOf } from '../helpers/cli.js';
import { startStdioServer, type StdioServer } from '../helpers/mcp-stdio.js';
import { WORKFLOWS_DIR } from '../helpers/engine-harness.js';
import { eventually } from '../helpers/wait.js';

/**
 * The order of start-up, not its speed: the built server answers initialize and tools/list from
 * the protocol and its own registrations alone. Here nothing else could answer: "ComfyUI" is a TCP
 * server that accepts connections and never says a word, and the workflows folder holds a template
 * that can never be read (a FIFO nobody writes). The engine and its socket come after the answer;
 * a later generate_image waits on the silent server until it goes away, then reports ComfyUI
 * unreachable, and the server serves on. (Its /object_info wait alone is >= 120 s, hence "goes away".)
 */

const text = (r: CallToolResult) => r.content.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('\n');

const posix = process.platform !== 'win32';
(posix ? describe : describe.skip)('stdio start-up: the first answers need nothing but the protocol', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  const requests: string[] = [];
  let work: string;
  let fifo: string;
  let server: StdioServer | undefined;

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.push(socket);
      // Read what comes (to see the engine's WebSocket upgrade arrive), answer nothing.
      socket.on('data', (d: Buffer) => requests.push(d.toString('latin1').split('\r\n')[0] ?? ''));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    work = mkdtempSync(join(tmpdir(), 'comfywire-startup-'));
    const workflows = join(work, 'workflows');
    mkdirSync(workflows);
    copyFileSync(join(WORKFLOWS_DIR, 'sd15-txt2img.json'), join(workflows, 'sd15-txt2img.json'));
    fifo = join(workflows, 'stuck.json');
    execFileSync('mkfifo', [fifo]);
  });

  afterAll(async () => {
    await server?.close();
    // Release anyone still opening the FIFO (none should be), then the silent server.
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody has it open for reading, as it should be.
    }
    for (const s of sockets) s.destroy();
    if (silent.listening) await new Promise<void>((resolve) => silent.close(() => resolve()));
    rmSync(work, { recursive: true, force: true });
  });

  it('a handshake in one write (initialize, initialized, tools/list) is answered whole before the runtime starts; the engine then connects', async () => {
    const port = (silent.address() as { port: number }).port;
    const child = spawn(process.execPath, [CLI, 'serve'], {
      cwd: work,
      env: childEnv({
        COMFYUI_URL: `http://127.0.0.1:${port}`,
        COMFYWIRE_WORKFLOWS_DIR: join(work, 'workflows'),
        COMFYWIRE_OUTPUT_DIR: join(work, 'outputs'),
        COMFYWIRE_FEED: 'off',
        COMFYWIRE_CALL_LOG: 'off',
        COMFYWIRE_LOG_LEVEL: 'debug',
      }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const handshake = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'order', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    ];
    child.stdin.write(`${handshake.map((m) => JSON.stringify(m)).join('\n')}\n`);
    try {
      const answers = await eventually(() => {
        const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id?: number; result?: { tools?: Array<{ name: string }> } });
        return lines.length >= 2 ? lines : undefined;
      });
      expect(answers.map((a) => a.id)).toEqual([1, 2]);
      expect(answers[1]!.result?.tools?.map((t) => t.name)).toContain('generate_image');
      // The server's own account of why its runtime started: the tools/list answer, not the idle
      // timer nor a held message. Then its socket reaches the silent server.
      const started = await eventually(() => /runtime started \(([^)]*)\)/.exec(err) ?? undefined);
      expect(started[1]).toBe('tools/list answered');
      await eventually(() => requests.find((line) => /^GET \/ws\?clientId=/.test(line)));
    } finally {
      child.stdin.end();
      await exitOf(child);
    }
  }, 60_000);

  it('answers initialize and tools/list; the engine connects afterwards; generate_image then reports the silent ComfyUI as unreachable, and the server keeps serving', async () => {
    const port = (silent.address() as { port: number }).port;
    requests.length = 0; // the previous test's server has exited
    // startStdioServer returns once the client's initialize was answered.
    server = await startStdioServer({
      comfyUrl: `http://127.0.0.1:${port}`,
      cwd: work,
      outputDir: join(work, 'outputs'),
      workflowsDir: join(work, 'workflows'),
      env: { COMFYWIRE_FEED: 'off', COMFYWIRE_CALL_LOG: 'off' },
    });
    const listed = await server.client.listTools();
    expect(listed.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['generate_image', 'get_workflow_status', 'cancel_job', 'list_workflows']));
    expect(listed.tools.find((t) => t.name === 'generate_image')?.inputSchema.properties).toHaveProperty('prompt');

    // The runtime starts after that answer: its socket reaches the silent server (and waits there).
    await eventually(() => requests.find((line) => /^GET \/ws\?clientId=/.test(line)));

    const call = server.call('generate_image', { workflow: 'sd15-txt2img', prompt: 'a lighthouse' });
    // It asks the silent server for /object_info; then the server goes: the request is cut, and
    // every later connection refused.
    await eventually(() => requests.find((line) => line.startsWith('GET /object_info')));
    silent.close();
    for (const s of sockets) s.destroy();
    const r = await call;
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`ComfyUI is not reachable at http://127.0.0.1:${port}/object_info.`);
    expect(text(r)).toMatch(/Check that ComfyUI is running/);

    // Still serving: the next call is answered, and so is tools/list.
    const stats = await server.call('get_system_stats');
    expect(stats.isError).toBe(true);
    expect(text(stats)).toContain(`ComfyUI is not reachable at http://127.0.0.1:${port}/system_stats.`);
    expect((await server.client.listTools()).tools.length).toBe(listed.tools.length);
  }, 60_000);
});
