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
};

const config = {
  title: 'Get system stats',
  description:
    'Show the ComfyUI server: versions (ComfyUI, Python, PyTorch), RAM, and each device with its VRAM in GiB. ' +
    'Useful before large renders and to explain out-of-memory failures.',
  inputSchema: {},
  outputSchema,
  annotations: { readOnlyHint: true, openWorldHint: false },
};

/** Keys with undefined values are dropped: structured content is plain JSON. */
function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
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
      return okResult(lines.join('\n'), structured);
    }, toolCall(ctx, {})),
  );
}
