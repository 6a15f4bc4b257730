import { mediaOptions } from '../../media/probe.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { JobNotFoundError } from '../../errors.js';
import { identifierField, PROMPT_ID } from '../../input-policy/index.js';
import type { ToolContext } from '../deps.js';
import { downloadOutputs } from '../../jobs/download-outputs.js';
import { notDownloaded } from '../../jobs/output-folder.js';
import { withDownloads, type JobState } from '../../../streams/job-state.js';
import { foreignJobOnHosts } from '../foreign-job.js';
import { jobHost, viewUrlOn } from '../job-host.js';
import { filesOnDiskNote } from '../outputs.js';
import { jobText } from '../job-text.js';
import { JobViewSchema, jobView } from '../job-view.js';
import { QueueViewSchema, queueText, readQueue } from '../queue-view.js';
import { failure, errorText, guarded, okResult } from '../results.js';
import { withShutdownSignal } from '../shutdown.js';
import { toolCall } from '../../call-log/tool-call.js';

export const GET_WORKFLOW_STATUS = 'get_workflow_status';

const DEFAULT_RECENT = 10;

const inputSchema = {
  prompt_id: identifierField('prompt_id', PROMPT_ID)
    .optional()
    .describe('The job to report on (from generate_image or get_queue). Omit it for the queue and the recent jobs.'),
  recent: z.number().int().min(1).max(100).default(DEFAULT_RECENT).describe('How many recent jobs to list when prompt_id is omitted'),
  download: z
    .boolean()
    .default(true)
    .describe(
      'For a finished job this server did not submit (another client\'s, or an earlier comfywire run\'s): download the outputs ' +
        'that are not in the output folder yet. False only reports where ComfyUI has them.',
    ),
};

const RecentJobSchema = z.object({
  prompt_id: z.string(),
  status: z.string(),
  workflow: z.string().optional(),
  progress: z.number(),
  files: z.number().describe('Number of downloaded files'),
  host: z.string().optional().describe('Its ComfyUI host (when there are several)'),
});

const outputSchema = {
  job: JobViewSchema.optional().describe('The job asked for'),
  queue: QueueViewSchema.optional().describe('Without prompt_id: ComfyUI queue'),
  recent: z.array(RecentJobSchema).optional().describe('Without prompt_id: jobs of this server, newest first'),
};

const config = {
  title: 'Get workflow status',
  description:
    'Report on a job by prompt_id: queued (position), running (current node, step, overall progress, elapsed), finished ' +
    '(output file paths) or failed (node, exception, traceback, inputs and concrete hints to fix it). Works for jobs ' +
    'submitted elsewhere or before a restart too (from ComfyUI history): outputs already in the output folder are reported ' +
    'with their paths, missing ones are downloaded there. With several ComfyUI hosts it names the job\'s host, why it went ' +
    'there, and whether that host is down. Without prompt_id: the queue and this server\'s recent jobs.',
  inputSchema,
  outputSchema,
  // Not read-only: for jobs of others it may download their outputs into the output folder (never twice).
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
};

export function registerGetWorkflowStatusTool(server: McpServer, ctx: ToolContext): void {
  const { engine } = ctx;
  const diagnoseDeps = { listModels: (f: string) => engine.comfy.listModels(f), objectInfo: () => engine.objectInfo() };

  server.registerTool(GET_WORKFLOW_STATUS, config, async ({ prompt_id, recent, download }) =>
    guarded(ctx, GET_WORKFLOW_STATUS, async () => {
      if (prompt_id === undefined) {
        const queue = await readQueue(ctx);
        const active = engine.inFlight().map((j) => j.state);
        const several = engine.hostList().length > 1;
        const jobs = [...active, ...engine.recent(recent)].slice(0, recent).map((s) => ({
          prompt_id: s.promptId,
          status: s.status,
          progress: s.fraction,
          files: s.downloads.length,
          ...(s.workflow !== undefined ? { workflow: s.workflow } : {}),
          ...(several && s.host !== undefined ? { host: s.host } : {}),
        }));
        const recentText = jobs.length
          ? jobs.map((j) => `- ${j.prompt_id} ${j.status}${j.workflow ? ` (${j.workflow})` : ''}${j.host ? ` on ${j.host}` : ''}, ${j.files} file(s)`).join('\n')
          : '- none yet';
        return okResult(`${queueText(queue)}\nRecent jobs of this server:\n${recentText}`, { queue, recent: jobs });
      }

      const tracked = engine.job(prompt_id);
      const state = engine.jobState(prompt_id);
      const ours = async () => {
        const host = jobHost(engine, state!);
        // With several hosts a file left on ComfyUI is on the job's own host: its /view address.
        const viewUrl = host ? viewUrlOn(engine, host.host) : undefined;
        const view = await jobView(state!, diagnoseDeps, { ours: true, media: await mediaOptions(ctx.config), ...(tracked ? { context: tracked.ctx } : {}), host, ...(viewUrl ? { viewUrl } : {}) });
        return okResult(jobText(view), { job: view });
      };
      // A job we lost track of (socket gone, ComfyUI unreachable at the time) may well have run on:
      // ComfyUI's own record is the better answer whenever it has one.
      const lost = state?.status === 'lost' && !tracked;
      if (state && !lost) return ours();
      const foreign = await foreignJobOnHosts(engine, prompt_id, ctx.config.outputDir).catch((error: unknown) => {
        if (lost) return undefined;
        throw error;
      });
      if (!foreign && lost) return ours();
      if (!foreign) {
        const note = await filesOnDiskNote(ctx.config.outputDir, prompt_id);
        return failure(`${errorText(new JobNotFoundError(prompt_id))}${note ? `\n${note}` : ''}`);
      }
      const finished = foreign.state.status === 'success' && foreign.state.settled;
      const theirs = !finished
        ? foreign.state
        : download
          ? await withShutdownSignal(ctx.shutdown$, (signal) =>
              downloadOutputs(foreign.state, { client: foreign.host.comfy, outputDir: ctx.config.outputDir, signal, preferExisting: true }),
            )
          : leftAtComfy(foreign.state);
      // New files in the output folder are new output resources.
      if (theirs.downloads.length > foreign.state.downloads.length) server.sendResourceListChanged();
      const view = await jobView(theirs, diagnoseDeps, {
        ours: false,
        media: await mediaOptions(ctx.config),
        context: foreign.context,
        viewUrl: (f) => foreign.host.comfy.viewUrl(f),
        host: jobHost(engine, {}, foreign.host.name),
      });
      const earlier = lost ? `comfywire had lost track of this job (${state!.lostReason ?? 'no reason recorded'}); ComfyUI's own record:\n` : '';
      return okResult(earlier + jobText(view), { job: view });
    }, toolCall(ctx, { prompt_id })),
  );
}

/** With download: false, each output not on disk says where ComfyUI keeps it and how to fetch it. */
function leftAtComfy(state: JobState): JobState {
  const reasons = notDownloaded(state).map(
    (f) =>
      `${f.filename}: not in the output folder; ComfyUI keeps it as ${f.type}/${f.subfolder ? `${f.subfolder.replace(/\\/g, '/')}/` : ''}${f.filename} ` +
      '(get_workflow_status with download: true fetches it)',
  );
  return withDownloads(state, [], reasons);
}
