import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { silentLogger } from '../src/logger.js';
import { startHttpServer } from '../src/mcp/http/index.js';
import type { Figure } from './table.js';

/**
 * Memory of an open Streamable HTTP session: `sessions` initialize requests that never DELETE,
 * the heap measured after a full collection before and after (run with --expose-gc). The engine is
 * never started: initialize does not talk to ComfyUI, and only session memory is wanted.
 */
export async function benchHttpSessions(sessions = 500): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'comfywire-bench-http-'));
  const config = loadConfig({}, {
    envFile: join(dir, 'none.env'),
    overrides: { COMFYUI_URL: 'http://127.0.0.1:9', COMFYWIRE_OUTPUT_DIR: dir, COMFYWIRE_HTTP_MAX_SESSIONS: String(sessions * 2) },
  });
  const logger = silentLogger();
  const engine = new Engine({ config, logger });
  const http = await startHttpServer({ deps: { engine, config, logger }, port: 0 });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${http.token}` };
  const initialize = async (): Promise<string> => {
    const res = await fetch(http.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`initialize answered HTTP ${res.status}`);
    return res.headers.get('mcp-session-id')!;
  };
  const heap = async (): Promise<number> => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc?.();
      await new Promise((r) => setImmediate(r));
    }
    return process.memoryUsage().heapUsed;
  };
  try {
    await initialize(); // the first session loads code and builds caches: not per-session memory
    const before = await heap();
    const ids: string[] = [];
    for (let i = 0; i < sessions; i++) ids.push(await initialize());
    const after = await heap();
    for (const id of ids) await fetch(http.url, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': id } }).then((r) => r.text());
    const released = await heap();
    const perSession = (after - before) / sessions / 1024;
    return [
      {
        name: `heap per open HTTP session (${sessions} initialize, no DELETE)`,
        value: perSession,
        unit: 'KB',
        // ~155 KB since the tools' and prompts' schemas are shared by every session's server (~806 KB before).
        target: { op: '<=', value: 250 },
        note: `${((after - before) / 1048576).toFixed(1)} MB for ${sessions}; ${((released - before) / 1048576).toFixed(1)} MB left after DELETE`,
      },
    ];
  } finally {
    await http.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
