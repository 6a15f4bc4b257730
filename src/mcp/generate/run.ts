import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { firstValueFrom, from, of, timeout, type Subscription } from 'rxjs';
import type { GenerateRequest } from '../../generation/request.js';
import { PromptRejectedError, describeError } from '../../errors.js';
import type { JobHandle } from '../../../streams/tracked-job.js';
import type { ToolContext } from '../deps.js';
import { allowedImage } from '../allowed-paths.js';
import { checkJobCap } from '../../jobs/job-cap.js';
import { jobText } from '../job-text.js';
import { jobView } from '../job-view.js';
import { jobHost } from '../job-host.js';
import { describeProgress, progressSender, progressSteps } from '../progress.js';
import { diagnoseRejection } from '../diagnose.js';
import { errorText, failure } from '../results.js';
import type { GenerateImageArgs } from '../tools/generate-image.js';
import { mediaOptions } from '../../media/probe.js';
import { cancelledResult, endedResult, handleResult, successResult, type GenerateFacts } from './result.js';
import { waitForJob } from './wait.js';
import type { RunHooks } from '../tasks/index.js';

/** How long a cancelled call waits for ComfyUI to confirm the interrupt before answering. */
const CANCEL_SETTLE_MS = 5_000;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const diagnoseDeps = (ctx: ToolContext) => ({
  listModels: (folder: string) => ctx.engine.comfy.listModels(folder),
  objectInfo: () => ctx.engine.objectInfo(),
});

/** The request part of the arguments, with input_image resolved to the allowed file. */
function toRequest(args: GenerateImageArgs, inputImage: string | undefined): GenerateRequest {
  const { wait: _wait, timeout_s: _timeout, input_image: _image, host: _host, tags: _tags, ...request } = args;
  return inputImage === undefined ? request : { ...request, input_image: inputImage };
}

export interface RunOptions {
  /** Wait for the job's end without a bound (a task), instead of up to timeout_s (a plain call). */
  untilDone?: boolean;
  hooks?: RunHooks;
}

/**
 * generate_image: prepare, submit, report progress, wait within the bound, and answer with the
 * files, a handle, or the diagnosis. Expected failures throw ComfywireErrors that `guarded` maps.
 */
export async function runGeneration(ctx: ToolContext, args: GenerateImageArgs, extra: Extra, options: RunOptions = {}): Promise<CallToolResult> {
  const { engine, logger } = ctx;
  // Refused before the input image is uploaded; the engine checks again as it submits.
  checkJobCap(engine.inFlight(), ctx.config.limits.maxActiveJobs);
  // The upload copies a local file to the ComfyUI host: only images, from folders the user shared.
  const inputImage =
    args.input_image === undefined
      ? undefined
      : (await allowedImage(args.input_image, [ctx.cwd, ctx.config.outputDir, ...ctx.uploadDirs], ctx.cwd, ctx.config.limits.uploadMaxBytes, 'input_image')).path;
  const prepared = await ctx.prepare(engine, toRequest(args, inputImage));
  const facts: GenerateFacts = { workflow: prepared.templateName, seed: prepared.seed, notes: prepared.notes, showHost: engine.hostList().length > 1 };
  if (extra.signal.aborted) return failure('The request was cancelled before the job was submitted; nothing was queued.');

  let job: JobHandle;
  try {
    job = await engine.submit(prepared.prompt, {
      workflow: prepared.templateName,
      ...(args.host !== undefined ? { host: args.host } : {}),
      ...(args.tags !== undefined ? { tags: args.tags } : {}),
    });
  } catch (error) {
    if (!(error instanceof PromptRejectedError)) throw error;
    // ComfyUI's own lists are cut at 20 entries: add the closest model names it left out.
    const hints = await diagnoseRejection(error.problems, diagnoseDeps(ctx));
    return failure([errorText(error), ...hints, ...facts.notes].join('\n'));
  }
  logger.info(`generate_image: submitted ${job.promptId} (${prepared.templateName})${facts.showHost ? ` ${job.state.dispatch ?? `to ${job.state.host}`}` : ''}`);
  options.hooks?.onSubmitted?.(job.promptId);

  // Notifications go out one after another, in state order; the final one joins the same chain.
  const send = progressSender(extra);
  let chain = Promise.resolve();
  const emit = (final: boolean) => (step: ReturnType<typeof describeProgress>) => {
    if (!send) return;
    chain = chain
      .then(() => send(step, final))
      .catch((e: unknown) => void logger.debug(`progress not sent: ${describeError(e)}`));
  };
  const progress: Subscription | undefined = send ? progressSteps(job.states$).subscribe(emit(false)) : undefined;
  const stopProgress = async (): Promise<void> => {
    progress?.unsubscribe();
    emit(true)(describeProgress(job.state));
    await chain;
  };

  if (!args.wait) {
    await stopProgress();
    return handleResult(job.state, facts, 'wait was false, so the call returns at once; the job runs on.');
  }
  const timeoutS = args.timeout_s ?? ctx.config.toolWaitS;
  const outcome = await waitForJob(job.done, options.untilDone ? undefined : timeoutS * 1000, { request: extra.signal, shutdown$: ctx.shutdown$ });

  switch (outcome.kind) {
    case 'timeout':
      await stopProgress();
      return handleResult(job.state, facts, `It is still going after the ${timeoutS} s this call waits.`);
    case 'shutdown':
      progress?.unsubscribe();
      return handleResult(job.state, facts, 'The server is shutting down; the job stays in ComfyUI.');
    case 'cancelled': {
      progress?.unsubscribe();
      const cancel = await engine.cancel(job.promptId).catch((e: unknown) => {
        logger.warn(`generate_image: cancelling ${job.promptId} failed: ${describeError(e)}`);
        return 'unknown' as const;
      });
      logger.info(`generate_image: request cancelled, job ${job.promptId} ${cancel}`);
      // Its final state if ComfyUI confirms within the bound, else the state it has then.
      const settled = await firstValueFrom(from(job.done).pipe(timeout({ first: CANCEL_SETTLE_MS, with: () => of(job.state) })));
      return cancelledResult(settled, facts, cancel);
    }
    case 'done':
      break;
  }
  await stopProgress();
  const state = outcome.state;
  const media = await mediaOptions(ctx.config);
  const view = await jobView(state, diagnoseDeps(ctx), {
    ours: true,
    media,
    context: job.ctx,
    host: jobHost(engine, state),
  });
  if (state.status === 'success') return successResult(state, view, facts, logger, media);
  const why: Partial<Record<typeof state.status, string>> = {
    interrupted: 'Someone interrupted it (cancel_job, the ComfyUI window, or another client). Run generate_image again if you still want it.',
    cancelled: 'It was removed from the queue before it ran. Run generate_image again if you still want it.',
  };
  return endedResult(state, view, facts, [jobText(view), why[state.status] ?? '', ...facts.notes].filter(Boolean).join('\n'));
}
