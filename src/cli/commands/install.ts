import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { defaultStateDir } from '../../config.js';
import { ConfigInvalidError } from '../../errors.js';
import { CLIENTS, SCOPES, type ClientTarget, type Locations } from '../../install/clients.js';
import { applyChange } from '../../install/file-change.js';
import { entryPathOf, planInstall } from '../../install/install.js';
import { InstallRecords } from '../../install/install-records.js';
import { launchNote, nextSteps } from '../../install/next-steps.js';
import { cliEntryPoint, resolveLaunch } from '../../install/server-launch.js';
import { serverSettings } from '../../install/server-settings.js';
import { resolveTargets } from '../../install/targets.js';
import { unifiedDiff } from '../../install/unified-diff.js';
import { VERSION } from '../../version.js';
import { handleError } from '../handle-error.js';

/**
 * `comfywire install`: registers comfywire as an MCP server with Claude Code, VS Code or Cursor
 * by editing one entry in the client's own config file (comments and formatting kept).
 * Messages go to stderr; `--dry-run` prints a unified diff on stdout and writes nothing.
 */
const OptionsSchema = z.object({
  client: z.enum([...CLIENTS, 'all']).optional(),
  scope: z.string().optional(),
  npx: z.boolean().default(false),
  allowPlaintextSecrets: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  env: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'must be KEY=VALUE'))
    .default([])
    .transform((pairs) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]))),
});

export const CLIENT_OPTION = `${CLIENTS.join(' | ')} | all (default: the clients found on this machine or in this project)`;
export const SCOPE_OPTION = `${SCOPES.join(' | ')}: claude-code local (default, ~/.claude.json for this folder) | project (.mcp.json) | user; vscode user (default) | workspace (.vscode/mcp.json); cursor user (default) | project (.cursor/mcp.json)`;

export function locations(env: NodeJS.ProcessEnv = process.env): Locations & { stateDir: string } {
  const cwd = process.cwd();
  const stateDir = env['COMFYWIRE_STATE_DIR']?.trim() ? resolve(cwd, env['COMFYWIRE_STATE_DIR'].trim()) : defaultStateDir(env);
  return { home: homedir(), cwd, platform: process.platform, env, stateDir };
}

/** `claude-code (local)`: which file of which client. */
export const labelOf = (target: ClientTarget) => `${target.client} (${target.scope})`;

/** Zod issues as `--flag: message` lines; a usage error (exit 2). */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown, command: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  --${i.path.filter((p) => typeof p === 'string').join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`);
  throw new ConfigInvalidError(`Invalid options:\n${lines.join('\n')}`, { hint: `See \`comfywire ${command} --help\`.` });
}

export function installCommand(): Command {
  return new Command('install')
    .description('register comfywire as an MCP server with Claude Code, VS Code or Cursor')
    .option('--client <name>', CLIENT_OPTION)
    .option('--scope <scope>', SCOPE_OPTION)
    .option('--npx', 'launch through `npx -y comfywire@<this version>` (for a registry install; nothing to keep on disk)')
    .option('--env <KEY=VALUE>', 'environment for the server, e.g. COMFYUI_URL=http://gpu-box:8188 (repeatable); secrets become references', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--allow-plaintext-secrets', 'write secrets (tokens, passwords) into the config file as they are instead of references')
    .option('--dry-run', 'print the changes as a unified diff on stdout and write nothing')
    // An unknown option is a usage error (exit 2 in main.ts), not commander's own exit 1.
    .exitOverride()
    .action(async (raw: unknown) => {
      try {
        await runInstall(raw);
      } catch (err) {
        process.exitCode = handleError(err);
      }
    });
}

async function runInstall(raw: unknown): Promise<void> {
  const opts = parseOptions(OptionsSchema, raw, 'install');
  const loc = locations();
  const targets = resolveTargets(opts.client, opts.scope, loc);
  const launch = resolveLaunch({ npx: opts.npx, entryPoint: cliEntryPoint(), version: VERSION, env: process.env, platform: process.platform });
  const records = new InstallRecords(loc.stateDir);
  // Every file is read and checked before any is written, so one broken file stops them all.
  const plans = [];
  for (const target of targets) {
    const settings = serverSettings(target, { explicitEnv: opts.env, env: process.env, cwd: loc.cwd, allowPlaintextSecrets: opts.allowPlaintextSecrets });
    const change = await planInstall(target, { entry: target.entry(launch, settings.env), inputs: settings.inputs }, await records.find(target.file, entryPathOf(target)));
    plans.push({ target, settings, change });
  }
  const err = (line: string) => process.stderr.write(`${line}\n`);
  for (const { target, change } of plans) {
    const where = target.scope === 'local' ? ` (projects[${JSON.stringify(loc.cwd)}])` : '';
    if (opts.dryRun) {
      process.stdout.write(unifiedDiff(change.before, change.after, { from: target.file, to: target.file }));
      err(`${labelOf(target)}: would ${!change.changed ? 'leave unchanged' : change.wasRegistered ? 'replace the entry in' : change.before === undefined ? 'create' : 'add comfywire to'} ${target.file}${where}`);
      continue;
    }
    const { written, backup } = await applyChange(change, records);
    const what = !written
      ? `already registered in ${target.file}${where}`
      : `${change.wasRegistered ? 'replaced the entry in' : change.before === undefined ? 'created' : 'added comfywire to'} ${written}${where}${backup ? ` (previous version in ${backup})` : ''}`;
    err(`${labelOf(target)}: ${what}`);
  }
  const envNames = Object.keys(plans[0]?.settings.env ?? {});
  err(`server: ${[launch.command, ...launch.args].join(' ')}${envNames.length ? ` with ${envNames.join(', ')}` : ''}`);
  err(launchNote(launch));
  const leftOut = new Map(plans.flatMap((p) => p.settings.leftOut.map((l) => [l.name, l.why] as const)));
  for (const [name, why] of leftOut) err(`note: ${name} left out: ${why}.`);
  if (opts.dryRun) return;
  for (const { target, settings } of plans) for (const step of nextSteps(target, settings, loc.cwd)) err(`next (${labelOf(target)}): ${step}`);
}
