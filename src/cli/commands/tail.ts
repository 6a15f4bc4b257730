import { Command } from 'commander';
import { handleError } from '../handle-error.js';

/**
 * `comfywire tail`: the live event stream, one readable line per event (or raw JSON lines).
 *
 * ComfyUI sends a prompt's execution events only to the socket that submitted it. Connected
 * directly, tail therefore sees queue status for everyone and the full events of prompts posted
 * without a client_id, nothing more. `--attach` reads a running comfywire's local feed instead,
 * which carries every event of the prompts that process submitted.
 */
export interface TailOptions {
  json?: boolean;
  prompt?: string;
  attach?: string | boolean;
}

export function tailCommand(): Command {
  return new Command('tail')
    .description('print the live ComfyUI event stream (for debugging)')
    .option('--json', 'raw JSON lines instead of readable lines')
    .option('--prompt <id>', 'only events of this prompt (a prefix is enough)')
    .option('--attach [pid]', "read a running comfywire's event feed (sees its prompts' execution events)")
    .action(async (opts: TailOptions) => {
      try {
        const { runTail } = await import('./tail-run.js');
        process.exitCode = await runTail(opts);
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}

