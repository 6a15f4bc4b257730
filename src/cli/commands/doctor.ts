import { Command } from 'commander';
import type { Simulator } from '../../simulator/index.js';
import { EXIT_FAILURE, handleError } from '../handle-error.js';

/**
 * `comfywire doctor`: checks the set-up end to end and says how to fix what is wrong. The report
 * goes to stderr; `--json` puts it on stdout for programs. Exit code 1 when any check failed.
 */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check configuration, ComfyUI, templates, models and folders, with a fix for each problem')
    .option('--json', 'print the checks as JSON on stdout')
    .option('--simulate', 'check against the embedded simulator instead of COMFYUI_URL')
    .action(async (opts: { json?: boolean; simulate?: boolean }) => {
      let simulator: Simulator | undefined;
      try {
        if (opts.simulate) {
          // Loaded only when used, like everywhere else: the simulator costs start-up time.
          const { startSimulator } = await import('../../simulator/index.js');
          simulator = await startSimulator({ port: 0 });
        }
        const { doctorPassed, formatChecks, runDoctor } = await import('../../doctor/run-doctor.js');
        // The simulator replaces whatever hosts were configured (a list or a hosts file too).
        const checks = await runDoctor(
          simulator ? { overrides: { COMFYUI_URL: simulator.url, COMFYUI_URLS: undefined, COMFYWIRE_HOSTS_FILE: undefined } } : {},
        );
        const passed = doctorPassed(checks);
        if (opts.json) process.stdout.write(`${JSON.stringify({ ok: passed, checks }, null, 2)}\n`);
        else process.stderr.write(formatChecks(checks));
        if (!passed) process.exitCode = EXIT_FAILURE;
      } catch (err) {
        process.exitCode = handleError(err);
      } finally {
        await simulator?.close();
      }
    });
}
