import { Command } from 'commander';
import { z } from 'zod';
import { CALL_STATUSES, type CallStatus } from '../../call-log/record.js';
import { EXIT_USAGE, handleError } from '../handle-error.js';

/**
 * `comfywire logs`: the call log, newest last. Reads PostgreSQL when DATABASE_URL is set, else
 * the file (with its rotated siblings). A table on stdout by default, JSON lines with --json.
 */

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100_000;

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "15m", "1h", "2d", "1w" back from `now`, or an ISO date/time; undefined when it is neither. */
export function parseSince(text: string, now: number = Date.now()): number | undefined {
  const rel = /^(\d{1,9})\s*([smhdw])$/.exec(text.trim());
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) return undefined;
  const t = Date.parse(text.trim());
  return Number.isNaN(t) ? undefined : t;
}

const OptionsSchema = z.object({
  since: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      const t = parseSince(v);
      if (t === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be a duration such as 30m, 1h, 2d, or an ISO date such as 2025-01-31T12:00Z (got ${JSON.stringify(v.slice(0, 40))})` });
        return z.NEVER;
      }
      return t;
    }),
  status: z
    .string()
    .optional()
    .refine((v) => v === undefined || (CALL_STATUSES as readonly string[]).includes(v), `must be one of ${CALL_STATUSES.join(', ')}`)
    .transform((v) => v as CallStatus | undefined),
  tool: z
    .string()
    .max(100, 'must be at most 100 characters')
    .regex(/^[A-Za-z0-9_:.-]+$/, 'must be a tool name such as generate_image or cli:generate')
    .optional(),
  limit: z
    .string()
    .default(String(DEFAULT_LIMIT))
    .refine((v) => /^\d{1,9}$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_LIMIT, `must be a whole number from 1 to ${MAX_LIMIT}`)
    .transform(Number),
  json: z.boolean().default(false),
});

export type LogsOptions = z.infer<typeof OptionsSchema>;

export type LogsRunner = (options: LogsOptions) => Promise<number>;

const runLazily: LogsRunner = async (options) => (await import('./logs-run.js')).runLogs(options);

export function logsCommand(run: LogsRunner = runLazily): Command {
  return new Command('logs')
    .description('show the call log (PostgreSQL when DATABASE_URL is set, else the local file)')
    .option('--since <when>', 'only calls since a duration ago (30m, 1h, 2d) or an ISO date')
    .option('--status <status>', `only calls that ended so: ${CALL_STATUSES.join(', ')}`)
    .option('--tool <name>', 'only calls of this tool (generate_image, cli:generate, ...)')
    .option('--limit <n>', `the newest n calls (default ${DEFAULT_LIMIT})`)
    .option('--json', 'one JSON object per line on stdout')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = OptionsSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) process.stderr.write(`error: --${issue.path.join('.')}: ${issue.message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      try {
        process.exitCode = await run(parsed.data);
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}
