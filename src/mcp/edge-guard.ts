import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { capText, excerpt } from '../input-policy/index.js';

/**
 * The last line of the input policy, around the SDK's own request handlers: texts the SDK builds
 * from what a caller sent (an unknown tool, prompt or resource named in full, every schema problem
 * of a call joined together) are kept short. Our own messages are already short (src/input-policy);
 * this bounds everything else, whatever the input.
 */

/** An error text never exceeds this (a rejected prompt that lists many nodes is cut here). */
export const MAX_ERROR_TEXT = 4000;
/** Schema problems shown for one call: the first few say what to fix first. */
const MAX_SCHEMA_PROBLEMS = 3;
/** Tool and prompt names are short snake_case words; anything else is not one of ours. */
const PLAUSIBLE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const SCHEMA_PROBLEMS = /^(MCP error -32602: (?:Input validation error: )?Invalid arguments for (?:tool|prompt) [^:]*: )([\s\S]*)$/;

/** At most a few schema problems (one per line, as the SDK joins them), then the cap. */
export function boundedErrorText(text: string): string {
  const schema = SCHEMA_PROBLEMS.exec(text);
  if (schema) {
    const lines = schema[2]!.split('\n');
    const more = lines.length - MAX_SCHEMA_PROBLEMS;
    const shown = lines.slice(0, MAX_SCHEMA_PROBLEMS).join('\n');
    text = `${schema[1]!}${shown}${more > 0 ? `\n(${more} more problem${more === 1 ? '' : 's'} not shown: fix these first)` : ''}`;
  }
  return capText(text, MAX_ERROR_TEXT);
}

function boundedResult(result: CallToolResult): CallToolResult {
  if (!result.isError) return result;
  return { ...result, content: result.content.map((c) => (c.type === 'text' ? { ...c, text: boundedErrorText(c.text) } : c)) };
}

/** The same protocol error with a short message (and a short `data.uri`, where it quotes one). */
function boundedMcpError(error: unknown): unknown {
  if (!(error instanceof McpError)) return error;
  const prefix = `MCP error ${error.code}: `;
  const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const data = error.data as { uri?: unknown } | undefined;
  const uri = typeof data?.uri === 'string' && data.uri.length > 200 ? excerpt(data.uri, 100) : undefined;
  return new McpError(error.code, boundedErrorText(message), uri === undefined ? error.data : { ...data, uri });
}

/** A tools/call the SDK refused before any tool ran (its arguments failed the schema, or no such tool). */
export type RefusedCall = (tool: string, args: Readonly<Record<string, unknown>>, errorText: string) => void;

/** The SDK's own refusals of a call's arguments (an McpError turned into an isError result). */
const SDK_REFUSAL = /^MCP error -32602: /;

/**
 * Install before any tool, prompt or resource is registered: the SDK sets its handlers then, and
 * each one it sets for tools/call, prompts/get and resources/read is wrapped. `onRefused` hears of
 * the calls the SDK refused itself, which never reach a tool's `guarded` (the call log keeps them).
 */
export function guardEdges(server: McpServer, onRefused?: RefusedCall): void {
  const low = server.server;
  const setRequestHandler = low.setRequestHandler.bind(low);
  const wrap = (schema: unknown, handler: (request: never, extra: never) => unknown): ((request: never, extra: never) => unknown) => {
    if (schema === CallToolRequestSchema) {
      return async (request, extra) => {
        const { name, arguments: args } = (request as { params: { name: string; arguments?: Record<string, unknown> } }).params;
        if (!PLAUSIBLE_NAME.test(name)) {
          const text = `No tool is named ${excerpt(name)}. tools/list shows the tools of this server.`;
          onRefused?.(excerpt(name), {}, text);
          return { content: [{ type: 'text', text }], isError: true };
        }
        const result = boundedResult((await handler(request, extra)) as CallToolResult);
        const first = result.isError ? result.content[0] : undefined;
        if (onRefused && first?.type === 'text' && SDK_REFUSAL.test(first.text)) onRefused(name, args ?? {}, first.text);
        return result;
      };
    }
    if (schema === GetPromptRequestSchema || schema === ReadResourceRequestSchema) {
      return async (request, extra) => {
        try {
          return await handler(request, extra);
        } catch (error) {
          throw boundedMcpError(error);
        }
      };
    }
    return handler;
  };
  low.setRequestHandler = ((schema: unknown, handler: (request: never, extra: never) => unknown) =>
    setRequestHandler(schema as never, wrap(schema, handler) as never)) as typeof low.setRequestHandler;
}
