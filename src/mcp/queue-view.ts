import { z } from 'zod';
import type { QueueItem } from '../comfy/schemas.js';
import type { ToolContext } from './deps.js';

/**
 * ComfyUI's queue in execution order, with the jobs this server submitted marked. Ours are
 * recognised by the tracker or by our fixed client id in the prompt's extra_data.
 */

export const QueueEntrySchema = z.object({
  prompt_id: z.string(),
  number: z.number().describe("ComfyUI's queue number (lower runs first; front-of-queue prompts are negative)"),
  position: z.number().describe('0 = running, 1 = next, ...'),
  state: z.enum(['running', 'pending']),
  ours: z.boolean().describe('Submitted by this comfywire server'),
  workflow: z.string().optional(),
  progress: z.number().optional().describe('0..1, for our running jobs'),
  nodes: z.number().describe('Node count of the prompt'),
});
export type QueueEntry = z.infer<typeof QueueEntrySchema>;

export const QueueViewSchema = z.object({
  running: z.array(QueueEntrySchema),
  pending: z.array(QueueEntrySchema),
});
export type QueueView = z.infer<typeof QueueViewSchema>;

function entry(ctx: ToolContext, item: QueueItem, position: number, state: 'running' | 'pending'): QueueEntry {
  const tracked = ctx.engine.jobState(item.promptId);
  const view: QueueEntry = {
    prompt_id: item.promptId,
    number: item.number,
    position,
    state,
    ours: tracked !== undefined || item.extraData['client_id'] === ctx.config.clientId,
    nodes: Object.keys(item.prompt ?? {}).length,
  };
  if (tracked?.workflow !== undefined) view.workflow = tracked.workflow;
  if (tracked && state === 'running') view.progress = tracked.fraction;
  return view;
}

export async function readQueue(ctx: ToolContext): Promise<QueueView> {
  const queue = await ctx.engine.comfy.getQueue();
  const running = queue.running.map((item, i) => entry(ctx, item, i, 'running'));
  const pending = queue.pending.map((item, i) => entry(ctx, item, running.length + i, 'pending'));
  return { running, pending };
}

export function queueText(view: QueueView): string {
  const line = (e: QueueEntry): string =>
    `- #${e.position} ${e.prompt_id} ${e.state}${e.ours ? ' (ours' + (e.workflow ? `, ${e.workflow}` : '') + ')' : ''}` +
    `${e.progress !== undefined ? `, ${Math.floor(e.progress * 100)}%` : ''}, ${e.nodes} nodes`;
  if (view.running.length + view.pending.length === 0) return 'The ComfyUI queue is empty.';
  return [
    `Running (${view.running.length}):`,
    ...view.running.map(line),
    `Pending (${view.pending.length}), in execution order:`,
    ...view.pending.map(line),
  ].join('\n');
}
