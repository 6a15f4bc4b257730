import { generateRequestSchema, type RequestLimits } from '../../generation/request-schema.js';
import type { GenerateRequest } from '../../generation/request.js';
import { excerpt, nullRecord } from '../../input-policy/index.js';

/**
 * `comfywire generate`'s flags as a GenerateRequest, checked with the schema the MCP tool uses, so
 * a value one edge refuses the other refuses too; each problem names the flag the user typed.
 */

/** The flag that sets each request key (its commander attribute is the flag without "--"). */
export const FLAG_OF = {
  workflow: '--workflow',
  prompt: '<prompt>',
  negative_prompt: '--negative',
  seed: '--seed',
  steps: '--steps',
  cfg: '--cfg',
  width: '--width',
  height: '--height',
  batch_size: '--batch',
  sampler: '--sampler',
  scheduler: '--scheduler',
  checkpoint: '--checkpoint',
  denoise: '--denoise',
  input_image: '--image',
  params: '--param',
} as const satisfies Record<keyof GenerateRequest, string>;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Flag text that reads as a decimal number becomes that number; anything else stays text, for
 * the schema to refuse with the message an MCP caller sending a string gets. (Number() alone
 * would read "" as 0 and "0x10" as 16.)
 */
export function numeric(text: string): number | string {
  return DECIMAL.test(text.trim()) ? Number(text) : text;
}

export type FlagsResult = { ok: true; request: GenerateRequest } | { ok: false; problems: string[] };

/**
 * `--param name=value` entries as a record without prototype ("__proto__=x" is a name like any
 * other, for the schema to refuse), or the problems of those without "=".
 */
function paramRecord(entries: readonly string[]): { params: Record<string, string>; problems: string[] } {
  const params = nullRecord<string>();
  const problems: string[] = [];
  for (const entry of entries) {
    const i = entry.indexOf('=');
    if (i <= 0) problems.push(`--param: takes name=value, e.g. filename_prefix=fox; got ${excerpt(entry)}.`);
    else params[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return { params, problems };
}

/**
 * The prompt argument and commander's parsed flags -> a validated request, or one line per
 * problem; `limits` are the configured ones (COMFYWIRE_MAX_PROMPT_CHARS), as for the MCP tool.
 */
export function requestFromFlags(prompt: string, flags: Record<string, unknown>, limits: RequestLimits): FlagsResult {
  const raw: Record<string, unknown> = { prompt };
  for (const [key, flag] of Object.entries(FLAG_OF)) {
    const value = flag.startsWith('--') ? flags[flag.slice(2)] : undefined;
    if (value !== undefined) raw[key] = value;
  }
  const param = Array.isArray(flags['param']) ? paramRecord(flags['param'] as string[]) : undefined;
  if (param) raw['params'] = param.params;
  const parsed = generateRequestSchema(limits).safeParse(raw);
  const issues = parsed.success ? [] : parsed.error.issues;
  const problems = [
    ...(param?.problems ?? []),
    ...issues.map((issue) => {
      const key = issue.path[0];
      const flag = typeof key === 'string' && Object.hasOwn(FLAG_OF, key) ? FLAG_OF[key as keyof typeof FLAG_OF] : issue.path.join('.');
      return `${flag}: ${issue.message}`;
    }),
  ];
  return parsed.success && problems.length === 0 ? { ok: true, request: parsed.data } : { ok: false, problems };
}
