import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ObjectInfo } from '../../comfy/types.js';
import { describeError } from '../../errors.js';
import { listTemplates } from '../../workflows/template-store.js';
import type { ParameterSpec } from '../../workflows/parameters.js';
import type { ToolContext } from '../deps.js';
import { guarded, okResult } from '../results.js';
import { toolCall } from '../../call-log/tool-call.js';

export const LIST_WORKFLOWS = 'list_workflows';

/** Long choice lists (samplers, checkpoints) are cut in the text; structured content has them all. */
const MAX_CHOICES_IN_TEXT = 12;
/** A default (a template's whole prompt text, say) is shown up to this long; structured content has it whole. */
const MAX_DEFAULT_CHARS = 120;

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_DEFAULT_CHARS ? `${text.slice(0, MAX_DEFAULT_CHARS - 2)}…"` : text;
}

export const ParameterSchema = z.object({
  name: z.string(),
  type: z.enum(['string', 'integer', 'number', 'boolean', 'choice', 'image']),
  description: z.string().optional(),
  default: z.unknown().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().optional(),
  choices: z.array(z.string()).optional(),
});

const WorkflowSchema = z.object({
  name: z.string().describe('Pass as generate_image workflow (folder templates only)'),
  source: z.enum(['folder', 'comfyui']).describe("folder: a template comfywire can run; comfyui: saved in ComfyUI's own library"),
  format: z.enum(['api', 'ui']).optional(),
  file: z.string().optional(),
  description: z.string().optional(),
  is_default: z.boolean(),
  parameters: z.array(ParameterSchema),
});

const outputSchema = {
  workflows: z.array(WorkflowSchema),
  problems: z.array(z.object({ name: z.string(), file: z.string(), message: z.string(), hint: z.string().optional() })),
  workflows_dir: z.string(),
  default_workflow: z.string(),
  comfyui_reachable: z.boolean(),
};

const inputSchema = {
  include_comfyui: z.boolean().default(true).describe("Also list the workflows saved in ComfyUI's user library"),
};

const config = {
  title: 'List workflows',
  description:
    'List the workflow templates generate_image can run (API or UI format) with their description and parameters ' +
    '(type, default, range or choices), plus the workflows saved in ComfyUI itself. Call this first to see which ' +
    'parameters a workflow takes; broken template files are reported, not fatal.',
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: true, openWorldHint: false },
};

export function parameterView(p: ParameterSpec): z.infer<typeof ParameterSchema> {
  const { targets: _targets, ...rest } = p;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as z.infer<typeof ParameterSchema>;
}

export function parameterLine(p: z.infer<typeof ParameterSchema>): string {
  const range = p.min !== undefined || p.max !== undefined ? ` ${p.min ?? '…'}..${p.max ?? '…'}` : '';
  const choices = p.choices?.length
    ? ` one of ${p.choices.slice(0, MAX_CHOICES_IN_TEXT).join(', ')}${p.choices.length > MAX_CHOICES_IN_TEXT ? ` (+${p.choices.length - MAX_CHOICES_IN_TEXT} more)` : ''}`
    : '';
  const def = p.default !== undefined ? ` (default ${shortJson(p.default)})` : '';
  return `  - ${p.name}: ${p.type}${range}${choices}${def}${p.description ? ` — ${p.description}` : ''}`;
}

export function registerListWorkflowsTool(server: McpServer, ctx: ToolContext): void {
  const { engine, config: cfg } = ctx;
  server.registerTool(LIST_WORKFLOWS, config, async ({ include_comfyui }) =>
    guarded(ctx, LIST_WORKFLOWS, async () => {
      // Without ComfyUI the folder can still be listed; only UI-format conversion and choice lists need it.
      let objectInfo: ObjectInfo | undefined;
      let unreachable: string | undefined;
      try {
        objectInfo = await engine.objectInfo();
      } catch (error) {
        unreachable = describeError(error).split('\n')[0];
      }
      const listing = await listTemplates(cfg.workflowsDir, objectInfo ? { objectInfo } : {});
      const workflows: Array<z.infer<typeof WorkflowSchema>> = listing.templates.map((t) => ({
        name: t.name,
        source: 'folder' as const,
        format: t.format,
        file: t.file,
        is_default: t.name === cfg.defaultWorkflow,
        parameters: t.parameters.map(parameterView),
        ...(t.description !== undefined ? { description: t.description } : {}),
      }));
      if (include_comfyui && objectInfo) {
        try {
          for (const w of await engine.comfy.listUserWorkflows()) {
            workflows.push({ name: w.path.replace(/\.json$/, ''), source: 'comfyui', format: 'ui', is_default: false, parameters: [] });
          }
        } catch (error) {
          ctx.logger.debug(`list_workflows: ComfyUI user workflows unavailable: ${describeError(error)}`);
        }
      }
      const lines: string[] = [`Workflow templates in ${cfg.workflowsDir} (default: ${cfg.defaultWorkflow}):`];
      for (const w of workflows.filter((x) => x.source === 'folder')) {
        lines.push(`- ${w.name}${w.is_default ? ' [default]' : ''} (${w.format})${w.description ? `: ${w.description}` : ''}`);
        lines.push(...w.parameters.map(parameterLine));
      }
      if (listing.templates.length === 0) lines.push('- none: put API- or UI-format workflow JSON files into this folder.');
      const saved = workflows.filter((w) => w.source === 'comfyui');
      if (saved.length)
        lines.push(
          "Saved in ComfyUI's library (to run one here, export it with \"Export (API)\" into the workflows folder):",
          ...saved.map((w) => `- ${w.name}`),
        );
      for (const p of listing.problems) lines.push(`Problem with ${p.file}: ${p.message}${p.hint ? ` ${p.hint}` : ''}`);
      if (unreachable) lines.push(`Note: ${unreachable} Parameter choices and UI-format templates need ComfyUI.`);
      return okResult(lines.join('\n'), {
        workflows,
        problems: listing.problems,
        workflows_dir: cfg.workflowsDir,
        default_workflow: cfg.defaultWorkflow,
        comfyui_reachable: !unreachable,
      });
    }, toolCall(ctx, {})),
  );
}
