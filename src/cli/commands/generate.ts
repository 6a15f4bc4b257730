import { Command, Option } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config.js';
import { PlacementSchema, type Placement, type RequestLimits } from '../../generation/request-schema.js';
import type { GenerateRequest } from '../../generation/request.js';
import { EXIT_USAGE } from '../handle-error.js';
import { numeric, requestFromFlags } from './generate-flags.js';
import { OUTPUT_HELP } from './output-option.js';

/**
 * `comfywire generate "<prompt>"`: the main job from a terminal. Loads a template, injects the
 * prompt and knobs, submits, shows live progress on stderr, downloads the outputs and prints
 * their absolute paths on stdout (one per line, or one JSON object with --json).
 */

/** How to run, as opposed to what to generate (that is the GenerateRequest). */
const OptionsSchema = z.object({
  simulate: z.boolean().default(false),
  json: z.boolean().default(false),
  timeout: z
    .number({ error: 'must be a number of seconds above 0 (the job keeps running after it).' })
    .positive({ error: 'must be a number of seconds above 0 (the job keeps running after it).' })
    .optional(),
  output: z.string().trim().min(1, { error: 'must name a folder.' }).optional(),
});

/** How to run, and where (--host, --tag: the placement generate_image takes as host and tags). */
export type GenerateOptions = z.infer<typeof OptionsSchema> & Placement;

/** --host and --tag checked with generate_image's fields; each problem names the flag. */
function placementFromFlags(raw: Record<string, unknown>): { ok: true; placement: Placement } | { ok: false; problems: string[] } {
  const parsed = PlacementSchema.safeParse({ host: raw['host'], tags: raw['tag'] });
  if (parsed.success) {
    const { host, tags } = parsed.data;
    return { ok: true, placement: { ...(host !== undefined ? { host } : {}), ...(tags !== undefined ? { tags } : {}) } };
  }
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path[0] === 'tags' ? '--tag' : '--host'}: ${issue.message}`) };
}

/** What runs once the command line is valid: runGenerate, loaded lazily; tests pass their own. */
export type GenerateRunner = (request: GenerateRequest, options: GenerateOptions) => Promise<number>;

const runLazily: GenerateRunner = async (request, options) => (await import('./generate-run.js')).runGenerate(request, options);

/** The configured limits, read when the command runs (an invalid configuration is a usage error). */
const configuredLimits = (): RequestLimits => loadConfig(process.env).limits;


/**
 * Each --param as typed; requestFromFlags splits them. (A parser that throws makes commander
 * quote the whole argument in its message and exit 1; a usage error is 2 and quotes a little.)
 */
function collectParam(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function generateCommand(run: GenerateRunner = runLazily, limits: () => RequestLimits = configuredLimits): Command {
  return new Command('generate')
    .description('generate from a workflow template, show live progress, download the outputs')
    .argument('<prompt>', 'the positive prompt text')
    .option('-w, --workflow <name>', 'template name in the workflows folder (default: COMFYWIRE_DEFAULT_WORKFLOW)')
    .option('-n, --negative <text>', 'negative prompt')
    .option('-s, --seed <n>', 'seed (random when omitted; the seed used is printed)', numeric)
    .option('--steps <n>', 'sampling steps', numeric)
    .option('--cfg <n>', 'classifier-free guidance scale', numeric)
    .option('--width <px>', 'image width', numeric)
    .option('--height <px>', 'image height', numeric)
    .option('--batch <n>', 'images per run (batch_size)', numeric)
    .option('--sampler <name>', 'sampler name, e.g. euler')
    .option('--scheduler <name>', 'scheduler name, e.g. normal')
    .option('--checkpoint <file>', 'checkpoint file name as ComfyUI lists it')
    .option('--denoise <0..1>', 'denoise strength (img2img)', numeric)
    .option('--image <path>', 'input image for templates that take one (uploaded first)')
    .option('-p, --param <name=value>', 'any other template parameter (repeatable)', collectParam)
    .option('--host <name>', 'run on this ComfyUI host only, by name (several hosts: COMFYUI_URLS or COMFYWIRE_HOSTS_FILE)')
    .option('--tag <tag>', 'run only on a host carrying this tag (repeatable: every tag)', collectParam)
    .option('--simulate', 'run against the embedded simulator (no ComfyUI or GPU needed)')
    .option('--json', 'print one JSON object with the result on stdout')
    .option('-o, --output <dir>', OUTPUT_HELP)
    .addOption(new Option('--timeout <s>', 'stop waiting after this many seconds (the job keeps running)').argParser(numeric))
    .action(async (prompt: string, raw: Record<string, unknown>) => {
      // Checked here, at the edge, with the schema generate_image uses: a bad value is a usage
      // error naming the flag, before anything connects to ComfyUI.
      const request = requestFromFlags(prompt, raw, limits());
      const { host: _host, tag: _tag, ...how } = raw;
      const options = OptionsSchema.safeParse(how);
      const placement = placementFromFlags(raw);
      const problems = [
        ...(request.ok ? [] : request.problems),
        ...(options.success ? [] : options.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`)),
        ...(placement.ok ? [] : placement.problems),
      ];
      if (!request.ok || !options.success || !placement.ok) {
        for (const line of problems) process.stderr.write(`error: ${line}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      process.exitCode = await run(request.request, { ...options.data, ...placement.placement });
    });
}
