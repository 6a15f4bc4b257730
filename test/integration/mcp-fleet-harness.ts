import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '../../src/logger.js';
import { createServer } from '../../src/mcp/server.js';
import { startFleetHarness, type FleetHarness, type TestHost } from '../helpers/fleet-harness.js';
import { until } from '../helpers/wait.js';

/**
 * The MCP server over a fleet of simulators (test/helpers/fleet-harness.ts): a real SDK client
 * joined in memory, the tools answering for gpu-1..gpu-N. Rate limits and the job cap are off,
 * as in mcp-harness.ts.
 */
export interface McpFleetHarness extends FleetHarness {
  client: Client;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Closes host i's simulator and waits until the fleet sees its socket drop. */
  kill(i: number): Promise<void>;
}

export async function startMcpFleetHarness(hosts: TestHost[], env: Record<string, string> = {}): Promise<McpFleetHarness> {
  const h = await startFleetHarness(hosts, { COMFYWIRE_GENERATE_RATE_PER_MIN: '0', COMFYWIRE_READ_RATE_PER_MIN: '0', ...env });
  // Every host up first: a test that shows one down decides which.
  await until(() => h.fleet.hosts.every((x) => x.engine.connection.state === 'open'), 10_000);
  const logger = silentLogger();
  const { server, cleanup } = createServer({ engine: h.fleet, config: h.fleet.config, logger, cwd: h.outputDir });
  const client = new Client({ name: 'mcp-fleet-test', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    ...h,
    client,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    async kill(i) {
      await h.sims[i]!.close();
      await until(() => h.fleet.hosts[i]!.engine.connection.state !== 'open', 10_000);
    },
    async close() {
      await client.close();
      await cleanup();
      await server.close();
      await h.close();
    },
  };
}
