#!/usr/bin/env node
import { Command } from 'commander';
import { generateCommand } from './commands/generate.js';
import { simulateCommand } from './commands/simulate.js';
import { tailCommand } from './commands/tail.js';
import { serveCommand } from './commands/serve.js';
import { installCommand } from './commands/install.js';
import { uninstallCommand } from './commands/uninstall.js';
import { doctorCommand } from './commands/doctor.js';
import { logsCommand } from './commands/logs.js';
import { handleError, EXIT_USAGE } from './handle-error.js';
import { applyConventions, checkCommandName, exitCodeOfParse } from './conventions.js';
import { VERSION } from '../version.js';

/**
 * The comfywire command. With no command it runs the MCP server on stdio, which is what MCP
 * clients launch; everything a person reads goes to stderr so stdout stays protocol-clean
 * (help and version, asked for, go to stdout: see conventions.ts).
 */
const program = new Command('comfywire')
  .description('Drive a ComfyUI server from coding agents (MCP) and the terminal')
  .version(VERSION);

program.addCommand(serveCommand(), { isDefault: true });
program.addCommand(generateCommand());
program.addCommand(tailCommand());
program.addCommand(simulateCommand());
program.addCommand(installCommand());
program.addCommand(uninstallCommand());
program.addCommand(doctorCommand());
program.addCommand(logsCommand());

applyConventions(program);

try {
  checkCommandName(program, process.argv.slice(2));
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeOfParse(err) ?? handleError(err);
}
