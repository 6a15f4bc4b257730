import { Command } from 'commander';
import { z } from 'zod';
import { CLIENTS } from '../../install/clients.js';
import { applyChange } from '../../install/file-change.js';
import { entryPathOf } from '../../install/install.js';
import { InstallRecords } from '../../install/install-records.js';
import { resolveTargets } from '../../install/targets.js';
import { planUninstall } from '../../install/uninstall.js';
import { unifiedDiff } from '../../install/unified-diff.js';
import { handleError } from '../handle-error.js';
import { CLIENT_OPTION, SCOPE_OPTION, labelOf, locations, parseOptions } from './install.js';

/**
 * `comfywire uninstall`: removes what `install` added to a client's config, and only that: our
 * entry, our VS Code inputs, and the parent objects, file and folders install created, once empty.
 */
const OptionsSchema = z.object({
  client: z.enum([...CLIENTS, 'all']).optional(),
  scope: z.string().optional(),
  dryRun: z.boolean().default(false),
});

export function uninstallCommand(): Command {
  return new Command('uninstall')
    .description('remove what `comfywire install` added to a client\'s MCP config')
    .option('--client <name>', CLIENT_OPTION)
    .option('--scope <scope>', SCOPE_OPTION)
    .option('--dry-run', 'print the changes as a unified diff on stdout and write nothing')
    // An unknown option is a usage error (exit 2 in main.ts), not commander's own exit 1.
    .exitOverride()
    .action(async (raw: unknown) => {
      try {
        await runUninstall(raw);
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}

async function runUninstall(raw: unknown): Promise<void> {
  const opts = parseOptions(OptionsSchema, raw, 'uninstall');
  const loc = locations();
  const records = new InstallRecords(loc.stateDir);
  const plans = [];
  for (const target of resolveTargets(opts.client, opts.scope, loc)) {
    plans.push(await planUninstall(target, await records.find(target.file, entryPathOf(target))));
  }
  for (const change of plans) {
    const { target } = change;
    const label = labelOf(target);
    if (!change.changed) {
      process.stderr.write(`${label}: comfywire is not registered in ${target.file}\n`);
      continue;
    }
    if (opts.dryRun) {
      process.stdout.write(unifiedDiff(change.before, change.after, { from: target.file, to: target.file }));
      process.stderr.write(`${label}: would ${change.after === undefined ? 'delete (install created it)' : 'remove comfywire from'} ${target.file}\n`);
      continue;
    }
    const { removed, backup } = await applyChange(change, records);
    process.stderr.write(`${label}: ${removed ? `deleted ${target.file} (install had created it)` : `removed comfywire from ${target.file}${backup ? ` (previous version in ${backup})` : ''}`}\n`);
  }
}
