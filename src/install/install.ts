/**
 * Registering comfywire with one client: read its config (a missing file is an empty one),
 * merge our entry under its servers key, and write only when something changed.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { SERVER_NAME, type ClientTarget, type ServerLaunch } from './clients.js';
import { ClientConfigInvalidError, deepMerge, detectIndent, formatConfig, isJsonObject, parseConfigText, type JsonObject } from './json-document.js';

export interface InstallPlan {
  target: ClientTarget;
  /** The file existed before. */
  existed: boolean;
  /** The whole document as it will be written. */
  document: JsonObject;
  text: string;
  /** False when the file already says exactly this: nothing to write. */
  changed: boolean;
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function planInstall(target: ClientTarget, launch: ServerLaunch): Promise<InstallPlan> {
  const before = await readIfPresent(target.file);
  const current = before === undefined ? {} : withManualStep(() => parseConfigText(before, target.file), target, launch);
  const servers = current[target.serversKey];
  if (servers !== undefined && !isJsonObject(servers)) {
    throw new ClientConfigInvalidError(`${target.file}: "${target.serversKey}" is not an object, so comfywire cannot add itself to it.`, {
      hint: `Make "${target.serversKey}" an object of named servers ({"name": {...}}), then run install again. The file was left untouched.`,
      context: { file: target.file },
    });
  }
  // Merged, not replaced: env values someone added to our entry by hand survive a reinstall.
  const document = deepMerge(current, { [target.serversKey]: { [SERVER_NAME]: target.entry(launch) } });
  const text = formatConfig(document, before === undefined ? 2 : detectIndent(before));
  const changed = before === undefined || JSON.stringify(document) !== JSON.stringify(current);
  return { target, existed: before !== undefined, document, text, changed };
}

/** A file we refuse to rewrite still gets comfywire if the person pastes the entry themselves. */
function withManualStep<T>(read: () => T, target: ClientTarget, launch: ServerLaunch): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ClientConfigInvalidError)) throw error;
    const snippet = JSON.stringify({ [SERVER_NAME]: target.entry(launch) });
    throw new ClientConfigInvalidError(error.message, {
      cause: error.cause,
      hint: `${error.hint ?? ''} To register comfywire by hand, add this inside "${target.serversKey}": ${snippet.slice(1, -1)}`,
      context: error.context,
    });
  }
}

export interface InstallOutcome {
  plan: InstallPlan;
  /** Path written, or undefined when nothing changed. */
  written: string | undefined;
  backup: string | undefined;
}

export async function applyInstall(plan: InstallPlan): Promise<InstallOutcome> {
  if (!plan.changed) return { plan, written: undefined, backup: undefined };
  const { file, backup } = await writeFileAtomic(plan.target.file, plan.text);
  return { plan, written: file, backup };
}
