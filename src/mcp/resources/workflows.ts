import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ComfywireError, WorkflowNotFoundError } from '../../errors.js';
import { listTemplateNames, loadTemplate, type WorkflowTemplate } from '../../workflows/index.js';
import { workflowNames } from '../completions.js';
import type { McpDeps } from '../deps.js';
import { NAME } from '../../input-policy/index.js';
import { notFound, variable, workflowUri, WORKFLOW_TEMPLATE } from './uri.js';

/** `comfywire://workflows/{name}`: a template's API prompt with the parameters it exposes. */
export function registerWorkflowResources(server: McpServer, deps: McpDeps): void {
  const dir = deps.config.workflowsDir;
  const names = (): Promise<string[]> => listTemplateNames(dir).catch(() => []);
  const template = new ResourceTemplate(WORKFLOW_TEMPLATE, {
    list: async () => ({
      resources: (await names()).map((name) => ({
        uri: workflowUri(name),
        name: `workflow ${name}`,
        title: name,
        mimeType: 'application/json',
      })),
    }),
    complete: { name: workflowNames(deps) },
  });

  server.registerResource(
    'workflow',
    template,
    {
      title: 'Workflow template',
      description: 'A workflow template: the API prompt ComfyUI runs and the parameters generate_image accepts for it.',
      mimeType: 'application/json',
    },
    async (uri, vars) => {
      const name = variable(vars['name'], uri.href, 'name', { ...NAME, expected: 'a workflow template name, e.g. sd15-txt2img' });
      const loaded = await load(deps, name, uri.href);
      const body = {
        name: loaded.name,
        format: loaded.format,
        ...(loaded.description ? { description: loaded.description } : {}),
        file: loaded.file,
        parameters: loaded.parameters,
        prompt: loaded.prompt,
      };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] };
    },
  );
}

async function load(deps: McpDeps, name: string, uri: string): Promise<WorkflowTemplate> {
  try {
    return await loadTemplate(deps.config.workflowsDir, name);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound(uri, error.describe());
    // A UI-format template converts only with /object_info: ask ComfyUI (cached by the engine).
    const objectInfo = await deps.engine.objectInfo().catch(() => undefined);
    if (!objectInfo) throw notFound(uri, error instanceof ComfywireError ? error.describe() : String(error));
    try {
      return await loadTemplate(deps.config.workflowsDir, name, { objectInfo });
    } catch (again) {
      throw notFound(uri, again instanceof ComfywireError ? again.describe() : String(again));
    }
  }
}
