import { basename } from 'node:path';
import { firstValueFrom, from, of, timeout } from 'rxjs';
import { prepareGeneration } from '../../generation/prepare.js';
import { redactDeep } from '../../redact.js';
import type { GenerateRequest } from '../../generation/request.js';
import type { JobState } from '../../../streams/job-state.js';
import { DownloadFailedError, type ComfywireError } from '../../errors.js';
import { createRuntime } from '../runtime.js';
import { publishFeed } from '../../feed/feed-server.js';
import { describeJob } from '../render/progress.js';
import { progressView } from '../render/progress-view.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, handleError } from '../handle-error.js';
import type { GenerateOptions } from './generate.js';
import { errorOutcome, jobOutcome, type Outcome } from '../../call-log/outcome.js';
import { callRecord } from '../../call-log/record.js';
import { outputOverride } from './output-option.js';
import { mediaFacts, probeJobOutputs, type ProbedOutput } from '../../media/job-outputs.js';
import { mediaOptions } from '../../media/probe.js';

/** The call log's name for this command's jobs. */
export const CLI_GENERATE = 'cli:generate';

/** What `comfywire generate` does once its options are parsed (loaded only when it runs). */
export async function runGenerate(request: GenerateRequest, opts: GenerateOptions): Promise<number> {
  let runtime: Awaited<ReturnType<typeof createRuntime>> | undefined;
  const started = Date.now();
  // How the job ended, for the call log (one line per job, written before the runtime closes).
  let outcome: Outcome | undefined;
  let workflow: string | undefined = request.workflow;
  let feed: { close(): Promise<void> } | undefined;
  try {
    runtime = await createRuntime({ simulate: opts.simulate, autoSimulate: true, overrides: outputOverride(opts.output) });
    const { engine, config } = runtime;
    // Published before anything is submitted: `tail --attach <pid>` sees this job from its start.
    feed = await publishFeed(engine, runtime.logger, 'generate');
    const prepared = await prepareGeneration(engine, request);
    for (const note of prepared.notes) process.stderr.write(`note: ${note}\n`);
    workflow = prepared.templateName;
    const job = await engine.submit(prepared.prompt, {
      workflow: prepared.templateName,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.tags !== undefined ? { tags: opts.tags } : {}),
    });
    // With several hosts: which one and why (the dispatch reason); with one, its address as before.
    const where = engine.single ? config.comfyUrl : `${job.state.host ?? '?'} (${job.state.dispatch ?? 'dispatched'})`;
    process.stderr.write(
      `submitted ${job.promptId} (workflow ${prepared.templateName}${prepared.seed !== undefined ? `, seed ${prepared.seed}` : ''}) to ${where}\n`,
    );

    const view = progressView(process.stderr, runtime.redact);
    const render = job.states$.subscribe((state) => view.update(state));

    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(EXIT_INTERRUPTED);
      interrupted = true;
      // The progress line ends with a newline; after done() the next update starts below this note.
      view.done();
      process.stderr.write('cancelling (Ctrl-C again to quit at once)...\n');
      void engine.cancel(job.promptId).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);

    const timeoutMs = (opts.timeout ?? config.jobTimeoutMs / 1000) * 1000;
    // The final state, or undefined once the limit passed (on the global timers, like every limit).
    let final = await firstValueFrom(from(job.done).pipe(timeout({ first: timeoutMs, with: () => of(undefined) })));
    if (!final && job.state.endedBy !== undefined) {
      // The run is over and its outputs are still downloading: the timeout covers the whole job,
      // so the downloads stop here and the job ends with what came (each missing file says why).
      view.done();
      process.stderr.write(
        `the job finished in ComfyUI, but its outputs were still downloading when the job timeout of ${Math.round(timeoutMs / 1000)} s ` +
          `(--timeout, COMFYWIRE_JOB_TIMEOUT_MS) passed: downloads stopped.\n`,
      );
      final = await engine.stopDownloads(job.promptId, jobTimedOut(timeoutMs));
    }
    process.off('SIGINT', onSigint);
    render.unsubscribe();
    view.done();

    outcome = final ? jobOutcome(final) : { status: 'timed-out', promptId: job.promptId };
    if (!final) {
      // The job is not cancelled: the prompt_id is the handle to pick its outputs up later.
      if (opts.json) {
        const { status, queuePosition } = job.state;
        process.stdout.write(
          `${JSON.stringify({ prompt_id: job.promptId, status, queue_position: queuePosition, seed: prepared.seed, timed_out_after_s: timeoutMs / 1000 })}\n`,
        );
      }
      process.stderr.write(
        `still running after ${Math.round(timeoutMs / 1000)} s: prompt ${job.promptId} keeps going in ComfyUI. ` +
          `Watch it with \`comfywire tail\` or open ${config.comfyUrl}.\n`,
      );
      return EXIT_FAILURE;
    }
    // What ComfyUI said (errors, texts) is printed: redacted like everything else.
    const shown = redactDeep(final, runtime.redact);
    // Each file's kind, size and (where known) picture size and duration, as the MCP tools list them.
    const outputs = await probeJobOutputs(shown, await mediaOptions(config));
    return report(shown, outputs, prepared.seed, opts.json, interrupted, !engine.single);
  } catch (err) {
    outcome = errorOutcome(err);
    return handleError(err, runtime?.redact);
  } finally {
    if (runtime?.calls && outcome) {
      runtime.calls.write(
        callRecord({
          tool: CLI_GENERATE,
          status: outcome.status,
          durationMs: Date.now() - started,
          workflow,
          prompt: request.prompt,
          promptId: outcome.promptId,
          host: runtime.config.comfyUrl,
          errorCode: outcome.errorCode,
        }),
      );
    }
    await feed?.close().catch(() => undefined);
    await runtime?.close().catch(() => undefined);
  }
}

function jobTimedOut(timeoutMs: number): ComfywireError {
  return new DownloadFailedError(
    `stopped: the job timeout of ${Math.round(timeoutMs / 1000)} s (--timeout, COMFYWIRE_JOB_TIMEOUT_MS) passed while it was downloading; the partial file was removed.`,
    { hint: "Take the file from ComfyUI's output folder, or raise --timeout / COMFYWIRE_JOB_TIMEOUT_MS.", context: { reason: 'job_timeout', timeoutMs } },
  );
}

function report(state: JobState, outputs: ProbedOutput[], seed: number | undefined, json: boolean, interrupted: boolean, showHost: boolean): number {
  const seconds = state.endedAt && state.submittedAt ? ((state.endedAt - state.submittedAt) / 1000).toFixed(1) : '?';
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        prompt_id: state.promptId,
        status: state.status,
        seed,
        duration_s: Number(seconds) || undefined,
        files: state.downloads.map((d) => d.path),
        outputs: outputs.map(({ download, info }) => ({ path: download.path, node_id: download.nodeId, ...info })),
        texts: state.texts,
        error: state.error,
        download_errors: state.downloadErrors,
        outputs_unknown: state.outputsUnknown,
        ...(showHost ? { host: state.host, dispatch: state.dispatch } : {}),
      })}\n`,
    );
  }
  if (state.status === 'success') {
    if (!json) for (const d of state.downloads) process.stdout.write(`${d.path}\n`);
    // stdout keeps one path per line (scripts read it); what each file is goes to stderr.
    for (const { download, info } of outputs) process.stderr.write(`  ${basename(download.path)}: ${mediaFacts(info).join(', ')}\n`);
    for (const t of state.texts) process.stderr.write(`text output: ${t}\n`);
    process.stderr.write(
      `done in ${seconds} s${showHost && state.host ? ` on ${state.host}` : ''}: ${state.downloads.length} file(s) downloaded${seed !== undefined ? `, seed ${seed}` : ''}\n`,
    );
    for (const e of state.downloadErrors) process.stderr.write(`download failed: ${e}\n`);
    if (state.outputsUnknown) {
      process.stderr.write(
        `outputs unknown: ${state.outputsUnknown} Look in ComfyUI's output folder, or ask get_workflow_status for prompt ${state.promptId} later.\n`,
      );
    }
    return state.downloadErrors.length > 0 || state.outputsUnknown ? EXIT_FAILURE : 0;
  }
  if (state.status === 'error' && state.error) {
    const e = state.error;
    process.stderr.write(`error: node ${e.nodeId} (${e.title ?? e.classType}) raised ${e.exceptionType}: ${e.exceptionMessage.trim()}\n`);
  } else {
    process.stderr.write(`${describeJob(state)}\n`);
  }
  return interrupted ? EXIT_INTERRUPTED : EXIT_FAILURE;
}
