import { homedir } from 'node:os';
import { Command } from 'commander';
import { z } from 'zod';
import { ConfigInvalidError } from '../../errors.js';
import { CLIENTS, SCOPES, clientTarget, detectClients, type ClientName, type Locations } from '../../install/clients.js';
import { applyInstall, planInstall } from '../../install/install.js';
import { serverLaunch } from '../../install/server-launch.js';
import { handleError } from '../handle-error.js';

/**
 * `comfywire install`: registers this installation as an MCP server with VS Code, Claude Code
 * or Cursor by merging one entry into the client's own config file. Messages go to stderr;
 * `--dry-run` prints the resulting files on stdout, keyed by path, and writes nothing.
 */
const OptionsSchema = z.object({
  client: z.enum([...CLIENTS, 'all']).optional(),
  scope: z.enum(SCOPES).default('user'),
  dryRun: z.boolean().default(false),
  env: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'must be KEY=VALUE'))
    .default([])
    .transform((pairs) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]))),
});

/** Tests (and people with unusual setups) point "home" elsewhere without touching the real one. */
export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['COMFYWIRE_HOME']?.trim() || homedir();
}

export function installCommand(): Command {
  return new Command('install')
    .description('register comfywire as an MCP server with VS Code, Claude Code or Cursor')
    .option('--client <name>', `${CLIENTS.join(' | ')} | all (default: the clients found on this machine or in this project)`)
    .option('--scope <scope>', 'user (every project) or project (files in the current folder)', 'user')
    .option('--dry-run', 'print the resulting config files on stdout instead of writing them')
    .option('--env <KEY=VALUE>', 'environment for the server, e.g. COMFYUI_URL=http://gpu-box:8188 (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (raw: unknown) => {
      try {
        await runInstall(raw);
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}

function parseOptions(raw: unknown): z.infer<typeof OptionsSchema> {
  const parsed = OptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  --${i.path.filter((p) => typeof p === 'string').join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`);
  throw new ConfigInvalidError(`Invalid options:\n${lines.join('\n')}`, { hint: 'See `comfywire install --help`.' });
}

async function runInstall(raw: unknown): Promise<void> {
  const opts = parseOptions(raw);
  const loc: Locations = { home: homeDir(), cwd: process.cwd(), platform: process.platform, env: process.env };
  const clients: ClientName[] = opts.client === 'all' ? [...CLIENTS] : opts.client ? [opts.client] : detectClients(opts.scope, loc);
  if (clients.length === 0) {
    throw new ConfigInvalidError(`No MCP client found for --scope ${opts.scope}.`, {
      hint: `Name one with --client (${CLIENTS.join(', ')} or all); comfywire creates its config file if needed.`,
    });
  }
  const { launch, secretsLeftOut } = serverLaunch({ explicitEnv: opts.env, env: process.env, cwd: loc.cwd });
  // Every file is read and checked before any is written, so one broken file stops them all.
  const plans = await Promise.all(clients.map((c) => planInstall(clientTarget(c, opts.scope, loc), launch)));

  if (opts.dryRun) {
    process.stdout.write(`${JSON.stringify(Object.fromEntries(plans.map((p) => [p.target.file, p.document])), null, 2)}\n`);
    for (const p of plans) process.stderr.write(`${p.target.client}: would ${!p.changed ? 'leave unchanged' : p.existed ? 'update' : 'create'} ${p.target.file}\n`);
  } else {
    for (const plan of plans) {
      const { written, backup } = await applyInstall(plan);
      const what = written ? `${plan.existed ? 'updated' : 'created'} ${written}${backup ? ` (previous version in ${backup})` : ''}` : `already registered in ${plan.target.file}`;
      process.stderr.write(`${plan.target.client}: ${what}\n`);
    }
  }
  process.stderr.write(`server: ${launch.command} ${launch.args.join(' ')}${Object.keys(launch.env).length ? ` with ${Object.keys(launch.env).join(', ')}` : ''}\n`);
  if (secretsLeftOut.length) {
    process.stderr.write(`note: ${secretsLeftOut.join(', ')} not written (secrets); pass them with --env if the client should send them` +
      `${opts.scope === 'project' ? ', keeping in mind that project files are often committed' : ''}.\n`);
  }
  if (!opts.dryRun) process.stderr.write('Restart the client (or reload its MCP servers) to pick up comfywire.\n');
}
