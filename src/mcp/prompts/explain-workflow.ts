import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { identifierField, NAME } from '../../input-policy/index.js';
import { workflowNames } from '../completions.js';
import type { McpDeps } from '../deps.js';
import { sharedSchema } from '../shared-schemas.js';
import { describeParameter, templateOverview, tryLoadTemplate, userText } from './context.js';

export const EXPLAIN_WORKFLOW = 'explain_workflow';

export function registerExplainWorkflowPrompt(server: McpServer, deps: McpDeps): void {
  // Per (config, engine), shared by their servers: completable() marks the schema object itself.
  const argsSchema = sharedSchema(EXPLAIN_WORKFLOW, deps, () => ({
    workflow: completable(
      identifierField('workflow', { ...NAME, expected: 'a workflow template name, e.g. sd15-txt2img' }).optional().describe('Template name (as list_workflows shows it); the configured default when omitted.'),
      workflowNames(deps),
    ),
  }));

  server.registerPrompt(
    EXPLAIN_WORKFLOW,
    {
      title: 'Explain a workflow',
      description: "Explain a workflow template's parameters: what each one does, sensible values, and how to call generate_image with it.",
      argsSchema,
    },
    async ({ workflow }) => {
      const name = workflow ?? deps.config.defaultWorkflow;
      const template = await tryLoadTemplate(deps, name);
      const facts =
        template instanceof Error
          ? [
              `The template "${name}" could not be read here: ${template.message}`,
              'Templates in the workflows folder:',
              await templateOverview(deps),
              'Call list_workflows to get the full, authoritative list (it can also convert UI-format templates and includes ComfyUI\'s own saved workflows).',
            ]
          : [
              `Template: ${template.name} (${template.format === 'api' ? 'API' : 'UI'} format)`,
              ...(template.description ? [`Description: ${template.description}`] : []),
              `Nodes: ${Object.values(template.prompt).map((n) => n.class_type).join(', ')}`,
              'Parameters as comfywire sees them offline (list_workflows has the authoritative view, checked against the server):',
              ...(template.parameters.length ? template.parameters.map(describeParameter) : ['(none detected)']),
              `Resource with the full JSON: comfywire://workflows/${encodeURIComponent(template.name)}`,
            ];
      const text = [
        `Explain the comfywire workflow template "${name}" to me.`,
        '',
        ...facts,
        '',
        `First call list_workflows and find "${name}" in its result, to confirm the parameters and their ranges or choices.`,
        'Then explain, parameter by parameter: what it controls in the image, its default and valid range or choices, and values that usually work well (e.g. steps and cfg trade-offs, sizes the model was trained at).',
        'Point out parameters that must match something on the server (checkpoint and sampler names come from list_models and the template\'s choices).',
        `Finish with one example generate_image call for "${name}" that sets the most useful parameters, written as the JSON arguments.`,
      ].join('\n');
      return { description: `Explain the parameters of ${name}`, messages: [userText(text)] };
    },
  );
}
