import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * The stdio server answers its first requests before the rest of the process exists. A client
 * launches `comfywire serve` and waits for `initialize` and `tools/list`; what those answers need is
 * the protocol and this server's registrations, nothing else. The engine (socket, undici), the call
 * log (winston files, pg), the event feed and their modules are loaded afterwards ("the runtime").
 *
 * The gate sits on the transport: the methods below pass at once; any other message is held, in
 * order, until `open()`, so no tool, resource or completion ever runs against a runtime that is not
 * there. The runtime is started (`start`, called once) on the first of:
 *   - the tools/list answer written: the client holds its first answer, nothing waits on the load;
 *   - a held message: someone needs the runtime now;
 *   - RUNTIME_START_IDLE_MS after the first answer (initialize's): a client that asks nothing
 *     more still gets the socket connected and the feed published soon after it said hello.
 * A handshake sent in one write (initialize, initialized, tools/list) is answered whole before
 * any of these can fire: the messages of one read are dispatched, and answered, in one turn.
 */
const ANSWERED_WITHOUT_RUNTIME: ReadonlySet<string> = new Set([
  'initialize',
  'notifications/initialized',
  'ping',
  'tools/list',
  'prompts/list',
]);

/** How long after the first answer the runtime starts at the latest when the client asks nothing more. */
export const RUNTIME_START_IDLE_MS = 500;

export interface StartupGate {
  /** Delivers the held messages in their order; every later one passes straight through. */
  open(): void;
  /** Stops the idle timer (the transport closed before anything started). */
  dispose(): void;
}

type OnMessage = NonNullable<Transport['onmessage']>;

export type StartReason = 'tools/list answered' | 'a message needs it' | 'idle after the first answer';

export function gateUntilReady(transport: Transport, start: (reason: StartReason) => void, idleMs = RUNTIME_START_IDLE_MS): StartupGate {
  let opened = false;
  let started = false;
  let inner: OnMessage | undefined;
  const held: Array<Parameters<OnMessage>> = [];
  const toolsListIds = new Set<string | number>();

  let timer: ReturnType<typeof setTimeout> | undefined;
  function startOnce(reason: StartReason): void {
    if (started) return;
    started = true;
    clearTimeout(timer);
    start(reason);
  }

  const gated: OnMessage = (message, extra) => {
    if (opened) return inner?.(message, extra);
    const method = 'method' in message ? message.method : undefined;
    // Only while nothing is held: a message never overtakes one that came before it.
    if (held.length === 0 && (method === undefined || ANSWERED_WITHOUT_RUNTIME.has(method))) {
      if (method === 'tools/list' && 'id' in message && message.id !== undefined) toolsListIds.add(message.id);
      return inner?.(message, extra);
    }
    held.push([message, extra]);
    startOnce('a message needs it');
  };
  // The SDK installs its handler by assigning `onmessage` as it connects; the transport calls
  // whatever `onmessage` reads as. An accessor on this instance puts the gate between the two.
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    enumerable: true,
    get: () => (inner ? gated : undefined),
    set: (fn: OnMessage | undefined) => {
      inner = fn;
    },
  });

  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage, options) => {
    await send(message, options);
    if (started || !('id' in message) || 'method' in message || message.id === undefined) return;
    if (toolsListIds.has(message.id)) setImmediate(() => startOnce('tools/list answered'));
    else if (!timer) {
      timer = setTimeout(() => startOnce('idle after the first answer'), idleMs);
      timer.unref?.();
    }
  };

  return {
    open() {
      if (opened) return;
      opened = true;
      for (const [message, extra] of held.splice(0)) inner?.(message, extra);
    },
    dispose() {
      started = true;
      clearTimeout(timer);
    },
  };
}
