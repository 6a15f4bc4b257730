import { ComfywireError, PromptRejectedError } from '../errors.js';
import { redactUrls, type Redactor } from '../redact.js';

/** Exit codes: 1 = the job or a request failed, 2 = bad usage or configuration. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

const USAGE_CODES = new Set(['CONFIG_INVALID', 'WORKFLOW_NOT_FOUND', 'WORKFLOW_INVALID', 'PARAMETER_INVALID', 'UNSAFE_PATH']);

/**
 * The one place where an error becomes text on stderr and an exit code. `redact` masks the
 * configured secrets (Runtime.redact) when the command got that far; URL passwords and echoed
 * credentials are masked in any case.
 */
export function handleError(error: unknown, redact: Redactor = redactUrls): number {
  const write = (text: string) => process.stderr.write(redact(text));
  if (error instanceof ComfywireError) {
    write(`error: ${error.message}\n`);
    if (error instanceof PromptRejectedError) {
      for (const p of error.problems) {
        const where = `node ${p.nodeId}${p.classType ? ` (${p.classType})` : ''}${p.inputName ? `, input ${p.inputName}` : ''}`;
        write(`  - ${where}: ${p.message}${p.details ? `: ${p.details}` : ''}\n`);
      }
    }
    if (error.hint) write(`hint: ${error.hint}\n`);
    if (process.env['COMFYWIRE_DEBUG'] && error.cause) write(`cause: ${String(error.cause)}\n`);
    return USAGE_CODES.has(error.code) ? EXIT_USAGE : EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  write(`error: ${message}\n`);
  if (process.env['COMFYWIRE_DEBUG'] && error instanceof Error) write(`${error.stack}\n`);
  return EXIT_FAILURE;
}
