import { Command, Option, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { EXIT_USAGE } from '../handle-error.js';

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

export type GenerateOptions = z.infer<typeof OptionsSchema>;

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
      // Options are checked here, at the edge: a bad one is a usage error naming the option.
      const parsed = OptionsSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) process.stderr.write(`error: --${issue.path.join('.')}: ${issue.message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const { runGenerate } = await import('./generate-run.js');
      process.exitCode = await runGenerate(prompt, parsed.data);
    });
}

