#!/usr/bin/env node
import { Command } from 'commander';
import { generateCommand } from './commands/generate.js';
import { simulateCommand } from './commands/simulate.js';
import { tailCommand } from './commands/tail.js';
import { serveCommand } from './commands/serve.js';
import { installCommand } from './commands/install.js';
import { uninstallCommand } from './commands/uninstall.js';
import { doctorCommand } from './commands/doctor.js';
import { handleError, EXIT_USAGE } from './handle-error.js';
import { VERSION } from '../version.js';

/**
 * The comfywire command. With no command it runs the MCP server on stdio, which is what MCP
 * clients launch; everything a person reads goes to stderr so stdout stays protocol-clean.
 */
const program = new Command('comfywire')
  .description('Drive a ComfyUI server from coding agents (MCP) and the terminal')
  .version(VERSION)
  .configureOutput({ writeOut: (s) => process.stderr.write(s), writeErr: (s) => process.stderr.write(s) })
  .exitOverride();

program.addCommand(serveCommand(), { isDefault: true });
program.addCommand(generateCommand());
program.addCommand(tailCommand());
program.addCommand(simulateCommand());
program.addCommand(installCommand());
program.addCommand(uninstallCommand());
program.addCommand(doctorCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') process.exitCode = 0;
  else if (typeof code === 'string' && code.startsWith('commander.')) process.exitCode = EXIT_USAGE;
  else process.exitCode = handleError(err);
}
