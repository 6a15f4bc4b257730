import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ToolContext } from '../deps.js';
import { guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';
import type { SystemStats } from '../../comfy/client.js';
import type { HostStatus } from '../../engine-api.js';
import { askEveryHost, type HostAnswer } from '../host-reads.js';

export const GET_SYSTEM_STATS = 'get_system_stats';

const GIB = 1024 ** 3;
const gib = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : Math.round((bytes / GIB) * 100) / 100);

const DeviceSchema = z.object({
  name: z.string(),
  type: z.string().describe('cuda, mps, cpu...'),
  index: z.number().nullable().optional(),
  host: z.string().optional().describe('The ComfyUI host it belongs to (when there are several)'),
  vram_total_gib: z.number().optional(),
  vram_free_gib: z.number().optional(),
  torch_vram_total_gib: z.number().optional(),
  torch_vram_free_gib: z.number().optional(),
});

const HostStatsSchema = z.object({
  name: z.string(),
  url: z.string(),
  state: z.string().describe('The socket: open, connecting, reconnecting, closed'),
  up: z.boolean(),
  error: z.string().optional().describe('Why its stats could not be read'),
  comfyui_version: z.string().optional(),
  python_version: z.string().optional(),
  pytorch_version: z.string().optional(),
  os: z.string().optional(),
  ram_total_gib: z.number().optional(),
  ram_free_gib: z.number().optional(),
  devices: z.array(DeviceSchema),
  weight: z.number(),
  tags: z.array(z.string()),
  draining: z.boolean().describe('Out of rotation: new jobs go there only when pinned'),
  queue: z.number().describe('Prompts ahead of a new one there'),
  jobs_in_flight: z.number().describe("This server's jobs there"),
  seconds_per_job: z.number().optional().describe('Measured there (moving average), once a job has run'),
  loaded_checkpoint: z.string().optional().describe('The checkpoint it last loaded for one of our jobs'),
  node_classes: z.number().optional().describe('Node classes it has (what dispatch read)'),
  models: z.number().optional().describe('Model files it has (what dispatch read)'),
  catalog_error: z.string().optional().describe('Why dispatch could not read its nodes and models'),
});
type HostStats = z.infer<typeof HostStatsSchema>;

const TotalsSchema = z.object({
  hosts: z.number(),
  hosts_up: z.number(),
  devices: z.number(),
  vram_total_gib: z.number(),
  vram_free_gib: z.number(),
  queue: z.number(),
  jobs_in_flight: z.number(),
});

const outputSchema = {
  comfyui_url: z.string(),
  os: z.string().optional(),
  comfyui_version: z.string().optional(),
  python_version: z.string().optional(),
  pytorch_version: z.string().optional(),
  ram_total_gib: z.number().optional(),
  ram_free_gib: z.number().optional(),
  devices: z.array(DeviceSchema),
  hosts: z.array(HostStatsSchema).optional().describe('Each ComfyUI host, when there are several'),
  totals: TotalsSchema.optional().describe('Over every host, when there are several'),
  comfywire: z
    .object({
      jobs_in_flight: z.number(),
      recent_jobs: z.number(),
      prompt_routes: z.number(),
      downloads: z.number(),
      no_download_marks: z.number(),
      event_subscribers: z.number(),
      state_subscribers: z.number(),
      socket_listeners: z.number().optional(),
      http_connections: z.number().optional(),
      tasks: z.number().describe("This MCP session's tasks kept (plain calls' private ones included while they run)"),
    })
    .describe("What this comfywire process holds now (flat over any number of finished jobs; recent_jobs stops at its cap)"),
};

const config = {
  title: 'Get system stats',
  description:
    'Show the ComfyUI server: versions (ComfyUI, Python, PyTorch), RAM, and each device with its VRAM in GiB; and what ' +
    'comfywire itself holds (jobs, subscriptions, connections). With several ComfyUI hosts: each host (state, versions, devices, ' +
    'queue, seconds per job, loaded checkpoint, node and model counts; a host that is down shows why) and the totals. ' +
    'Useful before large renders and to explain out-of-memory failures.',
  inputSchema: {},
  outputSchema,
  annotations: { readOnlyHint: true, openWorldHint: false },
};

/** Keys with undefined values are dropped: structured content is plain JSON. */
function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The engine's counts (src/engine-api.ts EngineCounts) and this server's tasks, as plain JSON. */
function held(ctx: ToolContext) {
  const c = ctx.engine.counts();
  return defined({
    jobs_in_flight: c.jobsInFlight,
    recent_jobs: c.recentJobs,
    prompt_routes: c.promptRoutes,
    downloads: c.downloads,
    no_download_marks: c.noDownloadMarks,
    event_subscribers: c.eventSubscribers,
    state_subscribers: c.stateSubscribers,
    socket_listeners: c.socketListeners,
    http_connections: c.httpConnections,
    tasks: ctx.tasks?.store.size ?? 0,
  });
}

function devicesOf(stats: SystemStats, host?: string) {
  return stats.devices.map((d) =>
    defined({
      name: d.name,
      type: d.type,
      index: d.index,
      host,
      vram_total_gib: gib(d.vram_total),
      vram_free_gib: gib(d.vram_free),
      torch_vram_total_gib: gib(d.torch_vram_total),
      torch_vram_free_gib: gib(d.torch_vram_free),
    }),
  );
}

type Device = z.infer<typeof DeviceSchema>;

const deviceLine = (d: Device): string => `Device ${d.name} (${d.type}): VRAM ${d.vram_free_gib ?? '?'} GiB free of ${d.vram_total_gib ?? '?'} GiB`;

function versionLine(s: SystemStats['system'], url: string): string {
  return (
    `ComfyUI ${s.comfyui_version ?? '(version unknown)'} at ${url}` +
    ` — Python ${s.python_version?.split(' ')[0] ?? '?'}, PyTorch ${s.pytorch_version ?? '?'}, ${s.os ?? 'unknown OS'}`
  );
}

/** One host's stats, what dispatch knows of it, or why it could not be read. */
function hostStats(answer: HostAnswer<SystemStats>): HostStats {
  const st: HostStatus = answer.status;
  const catalog = st.catalog;
  const read = answer.ok ? answer.value.system : undefined;
  return defined({
    name: answer.host.name,
    url: answer.host.url,
    state: st.state,
    up: st.up,
    error: answer.ok ? undefined : answer.error,
    comfyui_version: read?.comfyui_version,
    python_version: read?.python_version,
    pytorch_version: read?.pytorch_version,
    os: read?.os,
    ram_total_gib: gib(read?.ram_total),
    ram_free_gib: gib(read?.ram_free),
    devices: answer.ok ? devicesOf(answer.value, answer.host.name) : [],
    weight: st.weight,
    tags: [...st.tags],
    draining: st.draining,
    queue: st.queue,
    jobs_in_flight: st.jobsInFlight,
    seconds_per_job: st.secondsPerJob === undefined ? undefined : Math.round(st.secondsPerJob * 100) / 100,
    loaded_checkpoint: st.loadedCheckpoint,
    node_classes: catalog && 'nodeClasses' in catalog ? catalog.nodeClasses : undefined,
    models: catalog && 'models' in catalog ? catalog.models : undefined,
    catalog_error: catalog && 'error' in catalog ? catalog.error : undefined,
  });
}

function hostText(h: HostStats): string[] {
  const head = `${h.name} (${h.up ? 'up' : `down: ${h.state}`}${h.draining ? ', draining: only pinned jobs' : ''})`;
  if (h.error !== undefined) return [`${head}: stats not read: ${h.error}`];
  const load = [
    `queue ${h.queue}`,
    `${h.jobs_in_flight} of our jobs`,
    h.seconds_per_job !== undefined ? `${h.seconds_per_job} s per job` : 'no job measured yet',
    h.loaded_checkpoint !== undefined ? `last loaded ${h.loaded_checkpoint}` : undefined,
    h.node_classes !== undefined ? `${h.node_classes} node classes, ${h.models} models` : undefined,
    h.catalog_error !== undefined ? `nodes and models not read: ${h.catalog_error}` : undefined,
    h.weight !== 1 ? `weight ${h.weight}` : undefined,
    h.tags.length ? `tags ${h.tags.join(', ')}` : undefined,
  ].filter((x) => x !== undefined);
  return [
    `${head}: ComfyUI ${h.comfyui_version ?? '(version unknown)'} at ${h.url}; ${load.join(', ')}`,
    ...h.devices.map((d) => `  ${deviceLine(d)}`),
    ...(h.devices.length === 0 ? ['  No devices reported.'] : []),
  ];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function totalsOf(hosts: HostStats[]): z.infer<typeof TotalsSchema> {
  const devices = hosts.flatMap((h) => h.devices);
  return {
    hosts: hosts.length,
    hosts_up: hosts.filter((h) => h.up).length,
    devices: devices.length,
    vram_total_gib: round2(devices.reduce((n, d) => n + (d.vram_total_gib ?? 0), 0)),
    vram_free_gib: round2(devices.reduce((n, d) => n + (d.vram_free_gib ?? 0), 0)),
    queue: hosts.reduce((n, h) => n + h.queue, 0),
    jobs_in_flight: hosts.reduce((n, h) => n + h.jobs_in_flight, 0),
  };
}

function heldLine(c: ReturnType<typeof held>): string {
  return (
    `comfywire holds: ${c.jobs_in_flight} jobs in flight, ${c.recent_jobs} recent, ${c.prompt_routes} prompt routes, ` +
    `${c.event_subscribers} event subscribers, ${c.socket_listeners ?? '?'} socket listeners, ${c.http_connections ?? '?'} HTTP connections to ComfyUI, ${c.tasks} tasks`
  );
}

export function registerGetSystemStatsTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(GET_SYSTEM_STATS, config, async () =>
    guarded(ctx, GET_SYSTEM_STATS, async () => {
      const answers = await askEveryHost(ctx.engine, (comfy) => comfy.getSystemStats());
      if (answers.length === 1 && answers[0]!.ok) {
        // One host: the answer as it always was.
        const stats = answers[0]!.value;
        const s = stats.system;
        const devices = devicesOf(stats);
        const structured = defined({
          comfyui_url: ctx.engine.comfy.baseUrl,
          os: s.os,
          comfyui_version: s.comfyui_version,
          python_version: s.python_version,
          pytorch_version: s.pytorch_version,
          ram_total_gib: gib(s.ram_total),
          ram_free_gib: gib(s.ram_free),
          devices,
          comfywire: held(ctx),
        });
        const lines = [
          versionLine(s, ctx.engine.comfy.baseUrl),
          `RAM: ${structured.ram_free_gib ?? '?'} GiB free of ${structured.ram_total_gib ?? '?'} GiB`,
          ...devices.map(deviceLine),
        ];
        if (devices.length === 0) lines.push('No devices reported.');
        lines.push(heldLine(structured.comfywire));
        return okResult(lines.join('\n'), structured);
      }
      // Several hosts: each one, then the totals; the top-level facts are the first answering host's.
      const hosts = answers.map(hostStats);
      const first = answers.find((a): a is Extract<typeof a, { ok: true }> => a.ok);
      const s = first?.value.system;
      const totals = totalsOf(hosts);
      const structured = defined({
        comfyui_url: first?.host.url ?? answers[0]!.host.url,
        os: s?.os,
        comfyui_version: s?.comfyui_version,
        python_version: s?.python_version,
        pytorch_version: s?.pytorch_version,
        ram_total_gib: gib(s?.ram_total),
        ram_free_gib: gib(s?.ram_free),
        devices: hosts.flatMap((h) => h.devices),
        hosts,
        totals,
        comfywire: held(ctx),
      });
      const down = hosts.filter((h) => h.error !== undefined).map((h) => h.name);
      const lines = [
        `${totals.hosts} ComfyUI hosts, ${totals.hosts_up} up: ${totals.devices} devices, VRAM ${totals.vram_free_gib} GiB free of ` +
          `${totals.vram_total_gib} GiB, ${totals.queue} queued, ${totals.jobs_in_flight} of our jobs in flight` +
          (down.length ? `; not answering: ${down.join(', ')}.` : '.'),
        ...hosts.flatMap(hostText),
        heldLine(structured.comfywire),
      ];
      return okResult(lines.join('\n'), structured);
    }, toolCall(ctx, {})),
  );
}
