import { z } from 'zod';
import type { QueueItem } from '../comfy/schemas.js';
import type { ToolContext } from './deps.js';
import { askEveryHost, type HostAnswer } from './host-reads.js';

/**
 * ComfyUI's queue in execution order, with the jobs this server submitted marked. Ours are
 * recognised by the tracker or by our fixed client id in the prompt's extra_data. With several
 * hosts each host's queue is read on its own (positions count on that host), each entry names its
 * host, and a host that is down is listed as down rather than failing the whole call.
 */

export const QueueEntrySchema = z.object({
  prompt_id: z.string(),
  number: z.number().describe("ComfyUI's queue number (lower runs first; front-of-queue prompts are negative)"),
  position: z.number().describe('0 = running, 1 = next, ... (on its host)'),
  state: z.enum(['running', 'pending']),
  ours: z.boolean().describe('Submitted by this comfywire server'),
  workflow: z.string().optional(),
  progress: z.number().optional().describe('0..1, for our running jobs'),
  nodes: z.number().describe('Node count of the prompt'),
  host: z.string().optional().describe('The ComfyUI host whose queue has it (when there are several)'),
});
export type QueueEntry = z.infer<typeof QueueEntrySchema>;

export const HostQueueSchema = z.object({
  name: z.string(),
  url: z.string(),
  state: z.string().describe('The socket: open, connecting, reconnecting, closed'),
  up: z.boolean(),
  running: z.number(),
  pending: z.number(),
  ours: z.number().describe("This server's jobs in that host's queue"),
  error: z.string().optional().describe('Why its queue could not be read'),
});
export type HostQueue = z.infer<typeof HostQueueSchema>;

export const QueueViewSchema = z.object({
  running: z.array(QueueEntrySchema),
  pending: z.array(QueueEntrySchema),
  hosts: z.array(HostQueueSchema).optional().describe('Per host, when there are several'),
  total: z
    .object({ hosts: z.number(), hosts_up: z.number(), running: z.number(), pending: z.number(), ours: z.number() })
    .optional()
    .describe('Over every host, when there are several'),
});
export type QueueView = z.infer<typeof QueueViewSchema>;

function entry(ctx: ToolContext, item: QueueItem, position: number, state: 'running' | 'pending', host?: string): QueueEntry {
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
  if (host !== undefined) view.host = host;
  return view;
}

type Queue = { running: QueueItem[]; pending: QueueItem[] };

function entries(ctx: ToolContext, queue: Queue, host?: string): { running: QueueEntry[]; pending: QueueEntry[] } {
  const running = queue.running.map((item, i) => entry(ctx, item, i, 'running', host));
  const pending = queue.pending.map((item, i) => entry(ctx, item, running.length + i, 'pending', host));
  return { running, pending };
}

function hostQueue(answer: HostAnswer<Queue>, running: QueueEntry[], pending: QueueEntry[]): HostQueue {
  const { host, status } = answer;
  const out: HostQueue = {
    name: host.name,
    url: host.url,
    state: status.state,
    up: status.up,
    running: running.length,
    pending: pending.length,
    ours: [...running, ...pending].filter((e) => e.ours).length,
  };
  if (!answer.ok) out.error = answer.error;
  return out;
}

export async function readQueue(ctx: ToolContext): Promise<QueueView> {
  const answers = await askEveryHost(ctx.engine, (comfy) => comfy.getQueue());
  if (answers.length === 1 && answers[0]!.ok) return entries(ctx, answers[0]!.value);
  const view: QueueView = { running: [], pending: [], hosts: [] };
  for (const answer of answers) {
    const own = answer.ok ? entries(ctx, answer.value, answer.host.name) : { running: [], pending: [] };
    view.running.push(...own.running);
    view.pending.push(...own.pending);
    view.hosts!.push(hostQueue(answer, own.running, own.pending));
  }
  const hosts = view.hosts!;
  view.total = {
    hosts: hosts.length,
    hosts_up: hosts.filter((h) => h.up).length,
    running: view.running.length,
    pending: view.pending.length,
    ours: hosts.reduce((n, h) => n + h.ours, 0),
  };
  return view;
}

const line = (e: QueueEntry): string =>
  `- #${e.position} ${e.prompt_id} ${e.state}${e.ours ? ' (ours' + (e.workflow ? `, ${e.workflow}` : '') + ')' : ''}` +
  `${e.progress !== undefined ? `, ${Math.floor(e.progress * 100)}%` : ''}, ${e.nodes} nodes`;

function hostText(view: QueueView, h: HostQueue): string[] {
  const head = `${h.name} (${h.up ? 'up' : `down: ${h.state}`})`;
  if (h.error !== undefined) return [`${head}: queue not read: ${h.error}`];
  const mine = (e: QueueEntry) => e.host === h.name;
  const running = view.running.filter(mine);
  const pending = view.pending.filter(mine);
  if (running.length + pending.length === 0) return [`${head}: queue empty`];
  return [`${head}: ${h.running} running, ${h.pending} pending, ${h.ours} ours`, ...running.map(line), ...pending.map(line)];
}

export function queueText(view: QueueView): string {
  if (view.hosts && view.total) {
    const t = view.total;
    return [
      `${t.hosts} ComfyUI hosts, ${t.hosts_up} up: ${t.running} running, ${t.pending} pending in all, ${t.ours} of them ours. Each host's queue in execution order:`,
      ...view.hosts.flatMap((h) => hostText(view, h)),
    ].join('\n');
  }
  if (view.running.length + view.pending.length === 0) return 'The ComfyUI queue is empty.';
  return [
    `Running (${view.running.length}):`,
    ...view.running.map(line),
    `Pending (${view.pending.length}), in execution order:`,
    ...view.pending.map(line),
  ].join('\n');
}
