import path from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ParameterInvalidError } from '../../errors.js';
import { jsonObjectField, textField } from '../../input-policy/index.js';
import { describeProblem } from '../../workflows/check-prompt.js';
import { importWorkflow } from '../../workflows/import-workflow.js';
import { saveTemplate } from '../../workflows/save-template.js';
import { TEMPLATE_NAME_MAX_CHARS, templateNameProblem } from '../../workflows/template-name.js';
import { loadTemplate } from '../../workflows/template-store.js';
import type { ToolContext } from '../deps.js';
import { guarded, okResult } from '../results.js';
import { parameterLine, parameterView, ParameterSchema } from './list-workflows.js';

export const UPLOAD_WORKFLOW = 'upload_workflow';

/** Far above any real workflow (a big UI graph with subgraphs is a few hundred KB), far below trouble. */
export const MAX_WORKFLOW_CHARS = 5_000_000;
const MAX_DESCRIPTION_CHARS = 2_000;

const inputSchema = {
  name: z
    .string()
    .describe(
      `Template name: 1-${TEMPLATE_NAME_MAX_CHARS} letters, digits, "-" or "_" (no ".json", no folders), e.g. "fox-portrait"; ` +
        'generate_image then takes it as workflow',
    ),
  workflow: jsonObjectField<Record<string, unknown> | string>('workflow', 'a JSON object or JSON text', 'Pass the workflow exported from ComfyUI as it is.', { orText: true })
    .describe(
      'The workflow: API format (ComfyUI "Export (API)": {"<id>": {"class_type", "inputs"}}) or UI format (the editor\'s ' +
        'Save: "nodes" and "links"), as a JSON object or as JSON text',
    ),
  // list_workflows shows it to every model that asks: the input policy's text rule (no control characters, NFC, a cap).
  description: textField({ field: 'description', maxChars: MAX_DESCRIPTION_CHARS, required: false }, 'Describe in a sentence what the workflow makes.')
    .optional()
    .describe('What the workflow makes; shown by list_workflows'),
  parameters: jsonObjectField('parameters', 'a JSON object of parameter declarations', 'Leave it out to have the usual ones detected.')
    .optional()
    .describe(
      'Parameters to expose, as a .meta.json sidecar declares them: {"<name>": {"node": "<id>", "input": "<input>", "type"?, ' +
        '"default"?, "min"?, "max"?, "choices"?, "description"?}}. Omit to have the usual ones detected (prompt, seed, steps...)',
    ),
  overwrite: z.boolean().default(false).describe('Replace a template of the same name (and its sidecar); refused otherwise'),
};

const outputSchema = {
  name: z.string(),
  file: z.string().describe('The template file written'),
  meta_file: z.string().optional().describe('The sidecar written, when description or parameters were given'),
  format: z.enum(['api', 'ui']).describe('The format given; the template is saved in API format, as validated'),
  replaced: z.boolean().describe('A template of this name existed and was replaced'),
  parameters: z.array(ParameterSchema).describe('What generate_image accepts for this workflow'),
  output_nodes: z.array(z.string()).describe('Ids of the nodes ComfyUI runs the workflow for'),
  warnings: z.array(z.string()),
};

const config = {
  title: 'Upload workflow',
  description:
    'Save a ComfyUI workflow (API or UI format) as a template in the workflows folder, after checking it against the server: ' +
    'known node classes, required inputs, links to existing nodes and outputs of the right type, values within ranges and ' +
    'choices, an output node. Every problem is named (node, input, what to do); nothing is saved then. Returns the parameters, ' +
    'so generate_image can run it next. Refuses to replace a template unless overwrite is true.',
  inputSchema,
  outputSchema,
  // destructive: with overwrite it replaces a template.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
};

function sizeOf(workflow: string | Record<string, unknown>): number {
  return typeof workflow === 'string' ? workflow.length : (JSON.stringify(workflow)?.length ?? 0);
}

/** A generate_image call for the new template, filled with what the model most likely sets. */
function exampleCall(name: string, parameterNames: string[]): string {
  const args: Record<string, unknown> = { workflow: name };
  if (parameterNames.includes('prompt')) args.prompt = '<what to generate>';
  if (parameterNames.includes('input_image')) args.input_image = '<path of a local image>';
  return `generate_image ${JSON.stringify(args)}`;
}

/**
 * The templates shipped inside an installed package (node_modules, npx's cache): what is saved
 * there is lost at the next upgrade or cache eviction, so uploads go to a folder of the user's.
 */
export function insideInstalledPackage(dir: string): boolean {
  return path.resolve(dir).split(path.sep).some((part) => part === 'node_modules' || part === '_npx');
}

export function registerUploadWorkflowTool(server: McpServer, ctx: ToolContext): void {
  const dir = ctx.config.workflowsDir;
  server.registerTool(UPLOAD_WORKFLOW, config, async ({ name, workflow, description, parameters, overwrite }) =>
    guarded(ctx, UPLOAD_WORKFLOW, async () => {
      const badName = templateNameProblem(name);
      if (badName) throw new ParameterInvalidError(badName, { hint: 'Nothing was saved.', context: { field: 'name' } });
      if (insideInstalledPackage(dir)) {
        throw new ParameterInvalidError(
          `The workflows folder is the one shipped inside the installed comfywire package (${dir}): a template saved there would be ` +
            'lost at the next upgrade. Nothing was saved.',
          {
            hint:
              'Set COMFYWIRE_WORKFLOWS_DIR to a folder of your own (copy the shipped templates into it to keep them), or start the ' +
              'server in a folder that has a workflows/ subfolder; then upload again.',
          },
        );
      }
      const size = sizeOf(workflow);
      if (size > MAX_WORKFLOW_CHARS) {
        throw new ParameterInvalidError(`The workflow is ${size} characters of JSON; the limit is ${MAX_WORKFLOW_CHARS}. Nothing was saved.`, {
          hint: 'Pass the workflow itself (API format is the smallest: "Export (API)"), not a file with images or other data embedded.',
        });
      }
      // Checked against the server it will run on: its node classes, their inputs, its models.
      const objectInfo = await ctx.engine.objectInfo();
      const imported = importWorkflow(
        {
          display: `workflow "${name}"`,
          workflow,
          ...(description !== undefined ? { description } : {}),
          ...(parameters !== undefined ? { parameters } : {}),
        },
        objectInfo,
      );
      const saved = await saveTemplate(dir, { name, prompt: imported.prompt, overwrite, ...(imported.meta ? { meta: imported.meta } : {}) });
      const template = await loadTemplate(dir, name, { objectInfo });
      // Clients that list resources learn of the new comfywire://workflows/{name}.
      if (server.isConnected()) server.sendResourceListChanged();

      const params = template.parameters.map(parameterView);
      const warnings = [...imported.conversionWarnings, ...imported.check.warnings.map(describeProblem)];
      if (saved.removedMeta) warnings.push(`Removed the sidecar ${saved.removedMeta}: it described the workflow saved under this name before.`);
      const lines = [
        `Saved workflow "${name}" as ${saved.file}` +
          `${imported.format === 'ui' ? ' (converted from UI format to API format)' : ''}` +
          `${saved.metaFile ? `, with the sidecar ${saved.metaFile}` : ''}` +
          `${saved.replaced ? ', replacing the template of that name' : ''}.`,
        params.length
          ? `Parameters generate_image takes for it (workflow "${name}"):`
          : `It exposes no parameters: generate_image with workflow "${name}" runs it as saved.`,
        ...params.map(parameterLine),
        ...(warnings.length ? ['Warnings:', ...warnings.map((w) => `- ${w}`)] : []),
        `Next: ${exampleCall(name, params.map((p) => p.name))}`,
      ];
      return okResult(lines.join('\n'), {
        name,
        file: saved.file,
        ...(saved.metaFile ? { meta_file: saved.metaFile } : {}),
        format: imported.format,
        replaced: saved.replaced,
        parameters: params,
        output_nodes: imported.check.outputNodes,
        warnings,
      });
    }),
  );
}
