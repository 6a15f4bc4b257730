import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { advance, useFakeClock, useRealClock } from '../helpers/fake-clock.js';
import { RUNTIME_START_IDLE_MS, gateUntilReady, type StartReason } from '../../src/mcp/startup-gate.js';

/**
 * The stdio server's start-up gate (src/mcp/startup-gate.ts) on a transport stand-in: which
 * messages pass before the runtime exists, that the others wait in order, and what starts the
 * runtime: the tools/list answer, a held message, or RUNTIME_START_IDLE_MS after the first answer.
 */

class FakeTransport implements Transport {
  onmessage?: Transport['onmessage'];
  sent: JSONRPCMessage[] = [];
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  async send(message: JSONRPCMessage): Promise<void> {
    this.sent.push(message);
  }
  /** What the stdio transport does with a parsed line. */
  receive(message: JSONRPCMessage): void {
    this.onmessage?.(message);
  }
}

const req = (id: number, method: string): JSONRPCMessage => ({ jsonrpc: '2.0', id, method });
const answer = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, result: {} });
const turn = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const transport = new FakeTransport();
  const reasons: StartReason[] = [];
  const gate = gateUntilReady(transport, (reason) => reasons.push(reason));
  const seen: string[] = [];
  // What the SDK does as it connects: it assigns its handler.
  transport.onmessage = (m) => seen.push('method' in m ? `${m.method}${'id' in m ? `#${String(m.id)}` : ''}` : `answer#${String((m as { id: number }).id)}`);
  return { transport, gate, reasons, seen };
}

describe('the start-up gate', () => {
  afterEach(() => useRealClock());

  it('passes initialize, initialized, ping, tools/list and prompts/list at once, and starts nothing for them', () => {
    const { transport, reasons, seen } = setup();
    transport.receive(req(1, 'initialize'));
    transport.receive({ jsonrpc: '2.0', method: 'notifications/initialized' });
    transport.receive(req(2, 'ping'));
    transport.receive(req(3, 'tools/list'));
    transport.receive(req(4, 'prompts/list'));
    expect(seen).toEqual(['initialize#1', 'notifications/initialized', 'ping#2', 'tools/list#3', 'prompts/list#4']);
    expect(reasons).toEqual([]);
  });

  it('starts the runtime on the turn after the tools/list answer is written', async () => {
    const { transport, reasons } = setup();
    transport.receive(req(7, 'tools/list'));
    await transport.send(answer(7));
    expect(reasons).toEqual([]);
    await turn();
    expect(reasons).toEqual(['tools/list answered']);
  });

  it('holds a tool call, and everything after it, in order, until open(); the held call starts the runtime', () => {
    const { transport, gate, reasons, seen } = setup();
    transport.receive(req(1, 'initialize'));
    transport.receive(req(2, 'tools/call'));
    transport.receive(req(3, 'tools/list')); // would pass alone, but never overtakes the held call
    expect(seen).toEqual(['initialize#1']);
    expect(reasons).toEqual(['a message needs it']);
    gate.open();
    expect(seen).toEqual(['initialize#1', 'tools/call#2', 'tools/list#3']);
    transport.receive(req(4, 'resources/read'));
    expect(seen.at(-1)).toBe('resources/read#4');
    expect(reasons).toEqual(['a message needs it']);
  });

  it(`starts the runtime ${RUNTIME_START_IDLE_MS} ms after the first answer when nothing else asks for it (1 ms before: not yet)`, async () => {
    useFakeClock();
    const { transport, reasons } = setup();
    await advance(10 * RUNTIME_START_IDLE_MS);
    expect(reasons).toEqual([]); // no answer yet, no clock running
    transport.receive(req(1, 'initialize'));
    await transport.send(answer(1));
    await advance(RUNTIME_START_IDLE_MS - 1);
    expect(reasons).toEqual([]);
    await advance(1);
    expect(reasons).toEqual(['idle after the first answer']);
    // Once only, whatever comes later.
    transport.receive(req(2, 'tools/call'));
    expect(reasons).toEqual(['idle after the first answer']);
  });

  it('dispose() (the client left first) stops the idle clock and every later start', async () => {
    useFakeClock();
    const { transport, gate, reasons } = setup();
    transport.receive(req(1, 'initialize'));
    await transport.send(answer(1));
    gate.dispose();
    await advance(2 * RUNTIME_START_IDLE_MS);
    transport.receive(req(2, 'tools/call'));
    expect(reasons).toEqual([]);
  });
});
