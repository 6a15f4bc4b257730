import { CommanderError, type Command } from 'commander';
import { EXIT_USAGE } from './handle-error.js';

/**
 * The command-line conventions every comfywire command follows, applied in one place:
 * `--help` and `--version` print on stdout and exit 0 (what a person or a script asked for);
 * every usage error (unknown option, missing argument, bad value, unknown command) goes to
 * stderr, names what was wrong and exits 2. Other diagnostics stay on stderr as well: with
 * no command the program is the MCP server on stdio, whose stdout belongs to the protocol.
 */

/** Commander's codes for what the user asked to see: not errors. */
const SHOWN = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** Configures the root and every command under it; call once all commands are added. */
export function applyConventions(program: Command): Command {
  program
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  // addCommand() does not pass settings down (only .command() does): without this a
  // subcommand's usage error would call process.exit(1) itself.
  const inherit = (parent: Command) => {
    for (const sub of parent.commands) {
      sub.copyInheritedSettings(parent);
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/**
 * With a default command (serve), commander hands any unknown first word to it, which then
 * complains of "too many arguments for 'serve'". Refuse it as what it is, listing the commands.
 */
export function checkCommandName(program: Command, args: readonly string[]): void {
  const first = args[0];
  if (first === undefined || first.startsWith('-')) return;
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  if (names.includes(first) || first === 'help') return;
  const shown = first.length > 40 ? `${first.slice(0, 40)}…` : first;
  program.error(
    `error: unknown command '${shown}'. Commands: ${program.commands.map((c) => c.name()).join(', ')} (see comfywire --help)`,
    { code: 'commander.unknownCommand', exitCode: EXIT_USAGE },
  );
}

/** The exit code for an error thrown out of parsing: 0 for help/version, 2 for usage. */
export function exitCodeOfParse(err: unknown): number | undefined {
  if (!(err instanceof CommanderError)) return undefined;
  return SHOWN.has(err.code) ? 0 : EXIT_USAGE;
}
