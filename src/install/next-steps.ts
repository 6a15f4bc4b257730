/**
 * What the person does after `install`, per client: every client needs a step of its own before
 * comfywire answers (Claude Code asks to approve a project server, VS Code to start and trust it,
 * Cursor to switch it on), and nobody should have to discover that from a silent failure.
 */
import { join } from 'node:path';
import type { ClientTarget } from './clients.js';
import type { ResolvedLaunch } from './server-launch.js';
import type { ServerSettings } from './server-settings.js';

const list = (names: string[]) => names.join(', ');

export function nextSteps(target: ClientTarget, settings: ServerSettings, cwd: string): string[] {
  const steps: string[] = [];
  const { referenced } = settings;
  switch (target.client) {
    case 'claude-code':
      if (target.scope === 'project') {
        steps.push(
          `Claude Code lists a project server as "⏸ Pending approval" until you approve it: start \`claude\` in ${cwd} and approve comfywire when asked (or in /mcp); \`claude mcp list\` there shows its state.`,
        );
      } else {
        steps.push(`Start \`claude\` ${target.scope === 'local' ? `in ${cwd}` : 'in any folder'} (in a running session, /mcp reconnects); \`claude mcp list\` there should show comfywire ✔ Connected.`);
      }
      if (referenced.length) steps.push(`Set ${list(referenced)} in the environment you start Claude Code from: the entry refers to ${referenced.map((n) => `\${${n}}`).join(', ')}.`);
      break;
    case 'vscode':
      steps.push(
        `In VS Code, run "MCP: List Servers" (or the MCP SERVERS view), start comfywire and trust it when asked${referenced.length ? `; it asks once for ${list(referenced)} and keeps ${referenced.length > 1 ? 'them' : 'it'} in its secret storage` : ''}.`,
      );
      break;
    case 'cursor':
      steps.push('In Cursor Settings ▸ MCP, switch comfywire on (refresh the list if it is not there yet).');
      if (referenced.length) steps.push(`Set ${list(referenced)} in the environment Cursor starts from: the entry refers to ${referenced.map((n) => `\${env:${n}}`).join(', ')}.`);
      break;
  }
  if (settings.plaintext.length) {
    steps.push(`warning: ${list(settings.plaintext)} written in plain text to ${target.file} (--allow-plaintext-secrets)${target.inProject ? ', a project file that is often committed' : ''}.`);
  }
  return steps;
}

/** What the entry depends on, said once. */
export function launchNote(launch: ResolvedLaunch): string {
  switch (launch.kind) {
    case 'installed':
      return 'The entry runs `comfywire` from PATH (this installation), so it survives upgrades; the client must see that PATH too.';
    case 'npx':
      return `The entry runs \`${[launch.command, ...launch.args].join(' ')}\`: npx fetches that version when it is not cached (the first start takes longer).`;
    case 'folder':
      return (
        `The entry runs ${join(launch.folder ?? '', 'dist', 'comfywire.mjs')}: it is tied to ${launch.folder} (moving or deleting that folder breaks it; run install again from the new place). ` +
        'For an entry that survives moves, install the package (npm i -g comfywire) or pass --npx.'
      );
  }
}
