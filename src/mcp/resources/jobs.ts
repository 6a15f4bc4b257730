import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { JobState } from '../../../streams/job-state.js';
import type { McpDeps } from '../deps.js';
import { jobUri, notFound, variable, JOB_TEMPLATE } from './uri.js';

/** `comfywire://jobs/{prompt_id}`: the live JobState of a job this server submitted. */

/** Active jobs first (they are what a client wants to watch), then the finished ones, newest first. */
export function knownJobs(deps: McpDeps): JobState[] {
  const active = deps.engine.jobs.activeJobs().map((j) => j.state);
  return [...active.reverse(), ...deps.engine.jobs.recent()];
}

export function registerJobResources(server: McpServer, deps: McpDeps): void {
  const template = new ResourceTemplate(JOB_TEMPLATE, {
    list: () => ({
      resources: knownJobs(deps).map((s) => ({
        uri: jobUri(s.promptId),
        name: `job ${s.promptId}`,
        title: `${s.workflow ?? 'job'} ${s.promptId.slice(0, 8)} (${s.status})`,
        mimeType: 'application/json',
      })),
    }),
  });

  server.registerResource(
    'job',
    template,
    {
      title: 'Job status',
      description:
        'Live status of a job this server submitted (queued, running with per-node progress, finished with outputs). Subscribe to be told when it changes.',
      mimeType: 'application/json',
    },
    (uri, vars) => {
      const promptId = variable(vars['prompt_id'], uri.href);
      const state = deps.engine.jobs.get(promptId);
      if (!state) {
        throw notFound(uri.href, 'this server has no such job (it keeps the jobs it submitted; get_workflow_status also asks ComfyUI).');
      }
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(state, null, 2) }] };
    },
  );
}
