import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { JobState } from '../../streams/job-state.js';
import type { CallLog } from './call-log.js';
import { errorOutcome, jobOutcome, resultOutcome, type Outcome } from './outcome.js';
import { callRecord } from './record.js';

/**
 * One MCP tool call into the call log: `guarded` runs every tool body through `recordToolCall`.
 * A call that hands back a job still queued or running logs `queued`, then a second line with the
 * same prompt_id when that job ends, so the log never leaves a job's outcome untold.
 */

/** What a tool context offers the recorder (ToolContext fits). */
export interface ToolCallContext {
  calls?: CallLog | undefined;
  config: { comfyUrl: string };
  engine: { job(id: string): { done: Promise<JobState> } | undefined; jobState(id: string): JobState | undefined };
}

export interface ToolCall {
  ctx: ToolCallContext & { calls: CallLog };
  args: Readonly<Record<string, unknown>>;
}

/** Undefined when the process keeps no call log. */
export function toolCall(ctx: ToolCallContext, args: unknown): ToolCall | undefined {
  if (!ctx.calls) return undefined;
  const plain = typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : {};
  return { ctx: ctx as ToolCall['ctx'], args: plain };
}

export async function recordToolCall(call: ToolCall | undefined, tool: string, body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  if (!call) return body();
  const started = Date.now();
  let result: CallToolResult;
  try {
    result = await body();
  } catch (error) {
    write(call, tool, started, errorOutcome(error));
    throw error;
  }
  const outcome = resultOutcome(result);
  write(call, tool, started, outcome);
  if (outcome.pending && outcome.promptId !== undefined) followJob(call, tool, started, outcome);
  return result;
}

/** A call refused before any tool ran (the SDK's schema check): on record as refused, like the rest. */
export function recordRefusedCall(ctx: ToolCallContext, tool: string, args: unknown): void {
  const call = toolCall(ctx, args);
  const now = Date.now();
  // Refused on arrival: no time was spent on it.
  if (call) write(call, tool, now, { status: 'refused', errorCode: 'PARAMETER_INVALID' }, now);
}

function write(call: ToolCall, tool: string, started: number, outcome: Outcome, now = Date.now()): void {
  const { args, ctx } = call;
  ctx.calls.write(
    callRecord({
      tool,
      status: outcome.status,
      durationMs: now - started,
      workflow: outcome.workflow ?? args['workflow'],
      prompt: args['prompt'],
      promptId: outcome.promptId ?? args['prompt_id'],
      host: ctx.config.comfyUrl,
      errorCode: outcome.errorCode,
    }),
  );
}

function followJob(call: ToolCall, tool: string, started: number, handed: Outcome): void {
  const id = handed.promptId!;
  const ended = (state: JobState) =>
    write(call, tool, started, { ...jobOutcome(state), ...(handed.workflow !== undefined ? { workflow: handed.workflow } : {}) });
  const job = call.ctx.engine.job(id);
  if (job) {
    void job.done.then(ended, () => undefined);
    return;
  }
  // Ended between the answer and this line: its state is already in the recent store.
  const state = call.ctx.engine.jobState(id);
  if (state && state.status !== 'queued' && state.status !== 'running') ended(state);
}
