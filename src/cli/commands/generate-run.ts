import { firstValueFrom, from, of, timeout } from 'rxjs';
import { prepareGeneration } from '../../generation/prepare.js';
import { redactDeep } from '../../redact.js';
import type { GenerateRequest } from '../../generation/request.js';
import type { JobState } from '../../../streams/job-state.js';
import { createRuntime } from '../runtime.js';
import { publishFeed } from '../../feed/feed-server.js';
import { describeJob } from '../render/progress.js';
import { progressView } from '../render/progress-view.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, handleError } from '../handle-error.js';
import type { GenerateOptions } from './generate.js';
import { outputOverride } from './output-option.js';

/** What `comfywire generate` does once its options are parsed (loaded only when it runs). */
export async function runGenerate(request: GenerateRequest, opts: GenerateOptions): Promise<number> {
  let runtime: Awaited<ReturnType<typeof createRuntime>> | undefined;
  let feed: { close(): Promise<void> } | undefined;
  try {
    runtime = await createRuntime({ simulate: opts.simulate, autoSimulate: true, overrides: outputOverride(opts.output) });
    const { engine, config } = runtime;
    // Published before anything is submitted: `tail --attach <pid>` sees this job from its start.
    feed = await publishFeed(engine, runtime.logger, 'generate');
    const prepared = await prepareGeneration(engine, request);
    for (const note of prepared.notes) process.stderr.write(`note: ${note}\n`);
    const job = await engine.submit(prepared.prompt, { workflow: prepared.templateName });
    process.stderr.write(
      `submitted ${job.promptId} (workflow ${prepared.templateName}${prepared.seed !== undefined ? `, seed ${prepared.seed}` : ''}) to ${config.comfyUrl}\n`,
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
    const final = await firstValueFrom(from(job.done).pipe(timeout({ first: timeoutMs, with: () => of(undefined) })));
    process.off('SIGINT', onSigint);
    render.unsubscribe();
    view.done();

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
    return report(redactDeep(final, runtime.redact), prepared.seed, opts.json, interrupted);
  } catch (err) {
    return handleError(err, runtime?.redact);
  } finally {
    await feed?.close().catch(() => undefined);
    await runtime?.close().catch(() => undefined);
  }
}

function report(state: JobState, seed: number | undefined, json: boolean, interrupted: boolean): number {
  const seconds = state.endedAt && state.submittedAt ? ((state.endedAt - state.submittedAt) / 1000).toFixed(1) : '?';
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        prompt_id: state.promptId,
        status: state.status,
        seed,
        duration_s: Number(seconds) || undefined,
        files: state.downloads.map((d) => d.path),
        texts: state.texts,
        error: state.error,
        download_errors: state.downloadErrors,
      })}\n`,
    );
  }
  if (state.status === 'success') {
    if (!json) for (const d of state.downloads) process.stdout.write(`${d.path}\n`);
    for (const t of state.texts) process.stderr.write(`text output: ${t}\n`);
    process.stderr.write(`done in ${seconds} s: ${state.downloads.length} file(s) downloaded${seed !== undefined ? `, seed ${seed}` : ''}\n`);
    for (const e of state.downloadErrors) process.stderr.write(`download failed: ${e}\n`);
    return state.downloadErrors.length > 0 ? EXIT_FAILURE : 0;
  }
  if (state.status === 'error' && state.error) {
    const e = state.error;
    process.stderr.write(`error: node ${e.nodeId} (${e.title ?? e.classType}) raised ${e.exceptionType}: ${e.exceptionMessage.trim()}\n`);
  } else {
    process.stderr.write(`${describeJob(state)}\n`);
  }
  return interrupted ? EXIT_INTERRUPTED : EXIT_FAILURE;
}
