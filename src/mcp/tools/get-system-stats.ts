import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ToolContext } from '../deps.js';
import { guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';

export const GET_SYSTEM_STATS = 'get_system_stats';

const GIB = 1024 ** 3;
const gib = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : Math.round((bytes / GIB) * 100) / 100);

const DeviceSchema = z.object({
  name: z.string(),
  type: z.string().describe('cuda, mps, cpu...'),
  index: z.number().nullable().optional(),
  vram_total_gib: z.number().optional(),
  vram_free_gib: z.number().optional(),
  torch_vram_total_gib: z.number().optional(),
  torch_vram_free_gib: z.number().optional(),
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
    'comfywire itself holds (jobs, subscriptions, connections). Useful before large renders and to explain out-of-memory failures.',
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

export function registerGetSystemStatsTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(GET_SYSTEM_STATS, config, async () =>
    guarded(ctx, GET_SYSTEM_STATS, async () => {
      const stats = await ctx.engine.comfy.getSystemStats();
      const s = stats.system;
      const devices = stats.devices.map((d) =>
        defined({
          name: d.name,
          type: d.type,
          index: d.index,
          vram_total_gib: gib(d.vram_total),
          vram_free_gib: gib(d.vram_free),
          torch_vram_total_gib: gib(d.torch_vram_total),
          torch_vram_free_gib: gib(d.torch_vram_free),
        }),
      );
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
        `ComfyUI ${s.comfyui_version ?? '(version unknown)'} at ${ctx.engine.comfy.baseUrl}` +
          ` — Python ${s.python_version?.split(' ')[0] ?? '?'}, PyTorch ${s.pytorch_version ?? '?'}, ${s.os ?? 'unknown OS'}`,
        `RAM: ${structured.ram_free_gib ?? '?'} GiB free of ${structured.ram_total_gib ?? '?'} GiB`,
        ...devices.map(
          (d) => `Device ${d.name} (${d.type}): VRAM ${d.vram_free_gib ?? '?'} GiB free of ${d.vram_total_gib ?? '?'} GiB`,
        ),
      ];
      if (devices.length === 0) lines.push('No devices reported.');
      const c = structured.comfywire;
      lines.push(
        `comfywire holds: ${c.jobs_in_flight} jobs in flight, ${c.recent_jobs} recent, ${c.prompt_routes} prompt routes, ` +
          `${c.event_subscribers} event subscribers, ${c.socket_listeners ?? '?'} socket listeners, ${c.http_connections ?? '?'} HTTP connections to ComfyUI, ${c.tasks} tasks`,
      );
      return okResult(lines.join('\n'), structured);
    }, toolCall(ctx, {})),
  );
}
