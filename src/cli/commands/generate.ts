import { Command, Option, InvalidArgumentError } from 'commander';
import { distinctUntilChanged, map } from 'rxjs';
import { z } from 'zod';
import { prepareGeneration } from '../../generation/prepare.js';
import type { GenerateRequest } from '../../generation/request.js';
import type { JobState } from '../../../streams/job-state.js';
import { createRuntime, ensureReachable } from '../runtime.js';
import { describeJob } from '../render/progress.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, handleError } from '../handle-error.js';

/**
 * `comfywire generate "<prompt>"`: the main job from a terminal. Loads a template, injects the
 * prompt and knobs, submits, shows live progress on stderr, downloads the outputs and prints
 * their absolute paths on stdout (one per line, or one JSON object with --json).
 */

const OptionsSchema = z.object({
  workflow: z.string().optional(),
  negative: z.string().optional(),
  seed: z.number().int().nonnegative().optional(),
  steps: z.number().int().positive().optional(),
  cfg: z.number().positive().optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  batch: z.number().int().positive().optional(),
  sampler: z.string().optional(),
  scheduler: z.string().optional(),
  checkpoint: z.string().optional(),
  denoise: z.number().min(0).max(1).optional(),
  image: z.string().optional(),
  param: z.record(z.string(), z.string()).default({}),
  simulate: z.boolean().default(false),
  json: z.boolean().default(false),
  timeout: z.number().positive().optional(),
});

const num = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${value}".`);
  return n;
};

function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`--param takes name=value, got "${value}".`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

export function generateCommand(): Command {
  return new Command('generate')
    .description('generate from a workflow template, show live progress, download the outputs')
    .argument('<prompt>', 'the positive prompt text')
    .option('-w, --workflow <name>', 'template name in the workflows folder (default: COMFYWIRE_DEFAULT_WORKFLOW)')
    .option('-n, --negative <text>', 'negative prompt')
    .option('-s, --seed <n>', 'seed (random when omitted; the seed used is printed)', num('--seed'))
    .option('--steps <n>', 'sampling steps', num('--steps'))
    .option('--cfg <n>', 'classifier-free guidance scale', num('--cfg'))
    .option('--width <px>', 'image width', num('--width'))
    .option('--height <px>', 'image height', num('--height'))
    .option('--batch <n>', 'images per run', num('--batch'))
    .option('--sampler <name>', 'sampler name, e.g. euler')
    .option('--scheduler <name>', 'scheduler name, e.g. normal')
    .option('--checkpoint <file>', 'checkpoint file name as ComfyUI lists it')
    .option('--denoise <0..1>', 'denoise strength (img2img)', num('--denoise'))
    .option('--image <path>', 'input image for templates that take one (uploaded first)')
    .option('-p, --param <name=value>', 'any other template parameter (repeatable)', collectParam)
    .option('--simulate', 'run against the embedded simulator (no ComfyUI or GPU needed)')
    .option('--json', 'print one JSON object with the result on stdout')
    .addOption(new Option('--timeout <s>', 'stop waiting after this many seconds (the job keeps running)').argParser(num('--timeout')))
    .action(async (prompt: string, raw: unknown) => {
      process.exitCode = await runGenerate(prompt, OptionsSchema.parse(raw));
    });
}

async function runGenerate(prompt: string, opts: z.infer<typeof OptionsSchema>): Promise<number> {
  let runtime: Awaited<ReturnType<typeof createRuntime>> | undefined;
  try {
    runtime = await createRuntime({ simulate: opts.simulate, autoSimulate: true });
    await ensureReachable(runtime);
    const { engine, config } = runtime;
    const request: GenerateRequest = { prompt, params: opts.param };
    if (opts.workflow) request.workflow = opts.workflow;
    if (opts.negative !== undefined) request.negativePrompt = opts.negative;
    if (opts.seed !== undefined) request.seed = opts.seed;
    if (opts.steps !== undefined) request.steps = opts.steps;
    if (opts.cfg !== undefined) request.cfg = opts.cfg;
    if (opts.width !== undefined) request.width = opts.width;
    if (opts.height !== undefined) request.height = opts.height;
    if (opts.batch !== undefined) request.batchSize = opts.batch;
    if (opts.sampler) request.sampler = opts.sampler;
    if (opts.scheduler) request.scheduler = opts.scheduler;
    if (opts.checkpoint) request.checkpoint = opts.checkpoint;
    if (opts.denoise !== undefined) request.denoise = opts.denoise;
    if (opts.image) request.inputImage = opts.image;

    engine.start();
    const prepared = await prepareGeneration(engine, request);
    for (const note of prepared.notes) process.stderr.write(`note: ${note}\n`);
    const job = await engine.submit(prepared.prompt, { workflow: prepared.templateName });
    process.stderr.write(
      `submitted ${job.promptId} (workflow ${prepared.templateName}${prepared.seed !== undefined ? `, seed ${prepared.seed}` : ''}) to ${config.comfyUrl}\n`,
    );

    const tty = process.stderr.isTTY === true;
    const render = job.states$
      .pipe(map(describeJob), distinctUntilChanged())
      .subscribe((line) => process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`));

    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(EXIT_INTERRUPTED);
      interrupted = true;
      process.stderr.write('\ncancelling (Ctrl-C again to quit at once)...\n');
      void engine.cancel(job.promptId).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);

    const timeoutMs = (opts.timeout ?? config.jobTimeoutMs / 1000) * 1000;
    let timer: NodeJS.Timeout | undefined;
    const final = await Promise.race([
      job.done,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs))),
    ]);
    clearTimeout(timer);
    process.off('SIGINT', onSigint);
    render.unsubscribe();
    if (tty) process.stderr.write('\n');

    if (!final) {
      process.stderr.write(
        `still running after ${Math.round(timeoutMs / 1000)} s: prompt ${job.promptId} keeps going in ComfyUI. ` +
          `Watch it with \`comfywire tail\` or open ${config.comfyUrl}.\n`,
      );
      return EXIT_FAILURE;
    }
    return report(final, prepared.seed, opts.json, interrupted);
  } catch (err) {
    return handleError(err);
  } finally {
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
