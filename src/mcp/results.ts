import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ComfywireError, PromptRejectedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CallAdmission } from './rate-limit.js';
import { recordToolCall, type ToolCall } from '../call-log/tool-call.js';

/**
 * Tool results. An expected failure is an `isError: true` result whose text says what to do next:
 * it is all the model has to act on, and the server keeps serving. Only protocol faults throw.
 */

/** A successful result: text for the model, structured content for programs. */
export function okResult(text: string, structured: Record<string, unknown>, extra: CallToolResult['content'] = []): CallToolResult {
  return { content: [{ type: 'text', text }, ...extra], structuredContent: structured };
}

export function failure(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** The text a thrown error becomes: message, then the recovery hint (and per-input fixes for rejections). */
export function errorText(error: unknown, doing?: string): string {
  const lead = doing ? `${doing} failed. ` : '';
  if (error instanceof PromptRejectedError) {
    // The message already lists every node and input with its fix; the hint says what happens next.
    return `${lead}${error.describe()}`;
  }
  if (error instanceof ComfywireError) return `${lead}${error.describe()}`;
  const message = error instanceof Error ? error.message : String(error);
  return `${lead}Unexpected error: ${message}. This is likely a comfywire bug; the server is still running, so retrying or another tool may work.`;
}

/** What `guarded` needs of a tool's context (a ToolContext has it all). */
export interface GuardContext {
  logger: Logger;
  /** The process's rate limits; a refused call never reaches the body. */
  admission?: CallAdmission;
}

/** Admits a tool call, runs its body and turns anything it throws into an isError result (logged to stderr). */
export async function guarded(
  { logger, admission }: GuardContext,
  tool: string,
  body: () => Promise<CallToolResult>,
  call?: ToolCall,
): Promise<CallToolResult> {
  try {
    // Admission inside the record: a refused call is on record as refused.
    return await recordToolCall(call, tool, async () => {
      admission?.admit(tool);
      return body();
    });
  } catch (error) {
    if (error instanceof ComfywireError) logger.info(`${tool}: ${error.code}: ${error.message}`);
    else logger.error(`${tool}: unexpected error`, { error: error instanceof Error ? error.stack : String(error) });
    return failure(errorText(error));
  }
}
