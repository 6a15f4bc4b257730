import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { JobState } from '../../../streams/job-state.js';
import { describeError } from '../../errors.js';
import { knownPromptIds } from '../completions.js';
import type { McpDeps } from '../deps.js';
import { foreignJob } from '../foreign-job.js';
import { filesOnDiskNote } from '../outputs.js';
import { PROMPT_ID } from '../../input-policy/index.js';
import { jobUri, notFound, shortUri, variable, JOB_TEMPLATE } from './uri.js';

/**
 * `comfywire://jobs/{prompt_id}`: the JobState of a job, live for those this server submitted, and
 * for any other prompt (an earlier comfywire process's, another client's) as ComfyUI's queue or
 * history tells it, with its outputs already in the output folder counted as downloaded.
 */

/** Active jobs first (they are what a client wants to watch), then the finished ones, newest first. */
export function knownJobs(deps: McpDeps): JobState[] {
  const active = deps.engine.inFlight().map((j) => j.state);
  return [...active.reverse(), ...deps.engine.recent()];
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
    complete: { prompt_id: knownPromptIds(deps) },
  });

  server.registerResource(
    'job',
    template,
    {
      title: 'Job status',
      description:
        'Status of a job (queued, running with per-node progress, finished with outputs). Live for jobs this server submitted: ' +
        'subscribe to be told when they change. Other prompts are read from ComfyUI\'s queue and history.',
      mimeType: 'application/json',
    },
    async (uri, vars) => {
      const promptId = variable(vars['prompt_id'], uri.href, 'prompt_id', PROMPT_ID);
      const state = deps.engine.jobState(promptId) ?? (await fromComfy(deps, promptId, uri.href));
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(state, null, 2) }] };
    },
  );
}

/** A prompt this process did not submit, from ComfyUI; the errors say where its files are, if anywhere. */
async function fromComfy(deps: McpDeps, promptId: string, uri: string): Promise<JobState> {
  const { outputDir } = deps.config;
  let found: Awaited<ReturnType<typeof foreignJob>>;
  try {
    found = await foreignJob(deps.engine.comfy, promptId, outputDir);
  } catch (error) {
    const note = await filesOnDiskNote(outputDir, promptId);
    throw new McpError(
      ErrorCode.InternalError,
      `Could not read ${shortUri(uri)}: this server did not submit prompt ${promptId}, and asking ComfyUI about it failed: ${describeError(error)}` +
        (note ? `\n${note}` : ''),
      { uri: shortUri(uri) },
    );
  }
  if (found) return found.state;
  const note = await filesOnDiskNote(outputDir, promptId);
  throw notFound(
    uri,
    `neither this server nor ComfyUI's queue and history know prompt ${promptId} (ComfyUI forgets its history when it restarts). ` +
      "Check the id: get_queue lists ComfyUI's running and pending prompts, get_workflow_status without prompt_id this server's recent jobs." +
      (note ? `\n${note}` : ''),
  );
}
