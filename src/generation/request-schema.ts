import { z } from 'zod';
import type { Limits } from '../config.js';
import { excerpt, HOST_NAME, HOST_TAG, identifierField, NAME, paramsField, PATH, textField } from '../input-policy/index.js';
import { MAX_SAFE_SEED } from '../workflows/parameters.js';

/**
 * The one shape of a generation request, shared by `comfywire generate` (flags mapped to these
 * keys) and the MCP tool `generate_image` (these keys are its arguments), so both edges accept and
 * refuse the same values with the same words.
 *
 * Keys are the template parameter names (see detect-parameters.ts), plus `workflow`, `input_image`
 * (a local file, uploaded first) and `params` for anything else a template declares.
 *
 * The rules here are what holds for every template on every ComfyUI: the JSON type, whole numbers
 * where ComfyUI's input is an INT, lower bounds no node goes below (seeds are unsigned, a sampler
 * needs a step, guidance starts at 0, denoise is a fraction), and the limits that are ours or the
 * channel's (prompt length, seeds JSON carries exactly). Text, names and paths follow the input
 * policy (src/input-policy): NFC, no control characters, length caps, short quotes. Upper ranges belong to the node: the
 * template's sidecar and the server's /object_info are checked before submission
 * (applyParameters), which reports the range of the workflow at hand (steps 1..150 for
 * sd15-txt2img, KSampler's 10000 elsewhere) instead of a copy here that drifts from the server
 * (this tool's copy capped batch_size at 64; ComfyUI 0.3.64's EmptyLatentImage takes 4096).
 *
 * Messages start with the key and say what to pass instead; the CLI puts the flag in front.
 */

type Issue = { input?: unknown };

/** The same message for every way to miss a rule: wrong type, a fraction, out of range. */
const says = (rule: string, advice: string) => ({
  error: (issue: Issue) => `${rule}; got ${excerpt(issue.input)}. ${advice}`,
});

function number(rule: string, advice: string, range: { min: number; max?: number; whole?: boolean }) {
  // The first failed check ends it: 2^64 fails .int() (not a safe integer) and .max(); one line is enough.
  const e = { ...says(rule, advice), abort: true };
  const base = range.whole ? z.number(e).int(e) : z.number(e);
  const atLeast = base.min(range.min, e);
  return range.max === undefined ? atLeast : atLeast.max(range.max, e);
}

const wholeNumber = (rule: string, min: number, advice: string, max?: number) =>
  number(rule, advice, { min, whole: true, ...(max === undefined ? {} : { max }) });

/** What generation needs of the limits: the longest free text (COMFYWIRE_MAX_PROMPT_CHARS). */
export type RequestLimits = Pick<Limits, 'promptChars'>;

/** Prompt-like free text: the positive prompt must say something, the negative one may be empty. */
function text(key: string, limits: RequestLimits) {
  return textField({ field: key, maxChars: limits.promptChars, required: key === 'prompt' });
}

/** A name compared with what ComfyUI or the workflows folder lists: capped, one line, no controls. */
const name = (key: string, expected: string, advice: string) => identifierField(key, { ...NAME, expected }, advice);

/**
 * The schema for the configured limits (config.limits), one per limits object: the MCP tool and
 * the CLI build it from the same Config, so both refuse the same text at the same length.
 */
export function generateRequestSchema(limits: RequestLimits) {
  return z.object(requestShape(limits));
}

/** The fields for given limits; the MCP tool's input schema adds its own `wait` and `timeout_s`. */
export function requestShape(limits: RequestLimits) {
  return {
    workflow: name('workflow', 'a workflow template name, e.g. sd15-txt2img', 'Leave it out to use the default one.')
      .optional()
      .describe('Workflow template name from list_workflows (the configured default when absent)'),
    prompt: text('prompt', limits).optional().describe('What to generate: the positive text prompt'),
    negative_prompt: text('negative_prompt', limits).optional().describe('What to avoid: the negative text prompt'),
    seed: wholeNumber(
      `seed must be a whole number from 0 to ${MAX_SAFE_SEED}`,
      0,
      'ComfyUI takes seeds up to 2^64-1, but JSON numbers are exact only up to 2^53-1, so a larger seed would silently ' +
        'become a different one. Pick a smaller seed, or leave it out to have one drawn at random.',
      MAX_SAFE_SEED,
    )
      .optional()
      .describe('Random seed; omitted = drawn at random and reported'),
    steps: wholeNumber('steps must be a whole number, at least 1', 1, '20-30 is usual; more is slower.')
      .optional()
      .describe('Sampling steps (e.g. 20-30; more is slower)'),
    cfg: number('cfg must be a number, at least 0', '7 is usual for SD 1.5; higher follows the prompt more literally.', { min: 0 })
      .optional()
      .describe('Classifier-free guidance scale (e.g. 7 for SD 1.5)'),
    width: wholeNumber('width must be a whole number of pixels, at least 1', 1, 'Use a multiple of 8, e.g. 512 for SD 1.5 or 1024 for SDXL.')
      .optional()
      .describe('Image width in pixels (a multiple of 8)'),
    height: wholeNumber('height must be a whole number of pixels, at least 1', 1, 'Use a multiple of 8, e.g. 512 for SD 1.5 or 1024 for SDXL.')
      .optional()
      .describe('Image height in pixels (a multiple of 8)'),
    batch_size: wholeNumber('batch_size must be a whole number, at least 1', 1, 'It is the number of images per run; each one takes GPU memory.')
      .optional()
      .describe('Images per run'),
    sampler: name('sampler', 'a sampler name, e.g. euler or dpmpp_2m', "Leave it out to keep the workflow's own.")
      .optional()
      .describe('Sampler name, e.g. euler, dpmpp_2m (list_workflows shows the choices)'),
    scheduler: name('scheduler', 'a scheduler name, e.g. normal or karras', "Leave it out to keep the workflow's own.")
      .optional()
      .describe('Scheduler name, e.g. normal, karras'),
    checkpoint: name(
      'checkpoint',
      'a checkpoint file name as ComfyUI lists it, e.g. v1-5-pruned-emaonly.safetensors',
      "Leave it out to keep the workflow's own (or an installed one when that is missing).",
    )
      .optional()
      .describe('Checkpoint file name as list_models folder="checkpoints" shows it'),
    denoise: number('denoise must be a number from 0 to 1', '1 repaints everything; lower keeps more of input_image.', { min: 0, max: 1 })
      .optional()
      .describe('Denoising strength 0..1 (below 1 keeps more of input_image)'),
    input_image: identifierField('input_image', { ...PATH, expected: 'the path of a local image file (PNG, JPEG or WebP)' }, 'Give the path of an existing file.')
      .optional()
      .describe('Local image file for img2img workflows; uploaded to ComfyUI first (allowed folders as for upload_image)'),
    params: paramsField((key) => ({ field: `params.${key}`, maxChars: limits.promptChars, required: key === 'prompt' }))
      .optional()
      .describe('Values for other parameters the workflow declares, by name (list_workflows shows them)'),
  };
}

/** The request's type and keys (the limits change what is refused, not the shape). */
export const GenerateRequestSchema = generateRequestSchema({ promptChars: 4000 });

/** How many tags one request may ask for (the hosts file caps a host's tags at 32 too). */
export const MAX_REQUEST_TAGS = 16;

/**
 * Where to run, as opposed to what to generate: a host by name, or tags every chosen host must
 * carry (src/fleet/dispatch.ts). Not template parameters, so not part of the request above; the
 * MCP tool and `comfywire generate --host/--tag` share these fields and their messages.
 */
export function placementShape() {
  return {
    host: identifierField('host', HOST_NAME, 'Leave it out to let comfywire choose.')
      .optional()
      .describe('Run on this ComfyUI host only (its name, as get_system_stats lists it); omitted = comfywire chooses'),
    tags: z
      .array(identifierField('tags[]', HOST_TAG), { error: (issue) => `tags must be a list of host tags; got ${excerpt(issue.input)}.` })
      .max(MAX_REQUEST_TAGS, { error: `tags takes at most ${MAX_REQUEST_TAGS} tags.` })
      .optional()
      .describe('Run only on a host carrying every one of these tags (from the hosts file)'),
  };
}

export const PlacementSchema = z.object(placementShape());
export type Placement = z.infer<typeof PlacementSchema>;
