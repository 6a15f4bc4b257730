import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { redactDeep, type Redactor } from '../redact.js';

/**
 * Every message the server sends, redacted on its way out: tool results, resource texts, prompts,
 * progress and log notifications alike. One place at the edge catches what a tool forgot, such as
 * a ComfyUI error body that echoes our Authorization header.
 */
export function redactOutgoing<T extends Transport>(transport: T, redact: Redactor): T {
  const send = transport.send.bind(transport);
  transport.send = (message, options) => send(redactDeep(message, redact), options);
  return transport;
}
