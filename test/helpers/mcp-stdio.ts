import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, childEnv } from './cli.js';

/**
 * The built server (`comfywire serve`) spawned over stdio and joined by the real SDK client, as
 * an MCP host application launches it. Its stderr (the log) is collected for assertions.
 */

export interface StdioServer {
  client: Client;
  /** The server process. */
  pid: number | null;
  call(name: string, args?: Record<string, unknown>, options?: RequestOptions): Promise<CallToolResult>;
  stderr(): string;
  close(): Promise<void>;
}

export interface StdioServerOptions {
  comfyUrl: string;
  outputDir: string;
  workflowsDir: string;
  cwd: string;
  /** More environment for the server (COMFYWIRE_* values). */
  env?: Record<string, string>;
  clientName?: string;
  /** Arguments after `serve` (e.g. --output DIR). */
  args?: string[];
}

export async function startStdioServer(options: StdioServerOptions): Promise<StdioServer> {
  let stderr = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', ...(options.args ?? [])],
    cwd: options.cwd,
    env: childEnv({
      COMFYUI_URL: options.comfyUrl,
      COMFYWIRE_OUTPUT_DIR: options.outputDir,
      COMFYWIRE_WORKFLOWS_DIR: options.workflowsDir,
      COMFYWIRE_LOG_LEVEL: 'info',
      ...options.env,
    }) as Record<string, string>,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: options.clientName ?? 'comfywire-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid,
    call: (name, args = {}, opts) => client.callTool({ name, arguments: args }, undefined, opts) as Promise<CallToolResult>,
    stderr: () => stderr,
    close: () => client.close(),
  };
}
