/**
 * Registering comfywire with one client: read its config (a missing file is an empty one), put
 * our entry under its servers key as a whole (a reinstall keeps nothing of the old entry), keep
 * the VS Code inputs it refers to in step, and change nothing when the file already says this.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { JSONPath } from 'jsonc-parser';
import { SERVER_NAME, type ClientTarget, type SecretReference } from './clients.js';
import { ourInputs, readIfPresent, removeOurInputs, type FileChange } from './file-change.js';
import type { InstallRecord } from './install-records.js';
import { ClientConfigInvalidError, parseConfigText, valueAt } from './json-document.js';
import { appendElement, NotAContainerError, setMember } from './jsonc-edit.js';

export interface EntrySpec {
  entry: Record<string, unknown>;
  inputs: NonNullable<SecretReference['input']>[];
}

export const entryPathOf = (target: ClientTarget): string[] => [...target.serversPath, SERVER_NAME];

/** Folders that do not exist yet between the file and the nearest existing one, innermost first. */
function missingDirs(file: string): string[] {
  const dirs: string[] = [];
  for (let dir = dirname(file); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir)) dirs.push(dir);
  return dirs;
}

function notAContainer(target: ClientTarget, error: NotAContainerError): ClientConfigInvalidError {
  const where = error.path.map(String).join('.');
  return new ClientConfigInvalidError(`${target.file}: "${where}" is not an ${error.expected}, so comfywire cannot add itself to it.`, {
    hint: `Make "${where}" an ${error.expected === 'object' ? 'object of named servers ({"name": {...}})' : 'array'}, then run install again. The file was left untouched.`,
    context: { file: target.file },
  });
}

/** A file we refuse to rewrite still gets comfywire if the person pastes the entry themselves. */
function withManualStep<T>(read: () => T, target: ClientTarget, spec: EntrySpec): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ClientConfigInvalidError)) throw error;
    const snippet = JSON.stringify({ [SERVER_NAME]: spec.entry });
    throw new ClientConfigInvalidError(error.message, {
      cause: error.cause,
      hint: `${error.hint ?? ''} To register comfywire by hand, add this inside "${target.serversPath.at(-1)}": ${snippet.slice(1, -1)}`,
      context: error.context,
    });
  }
}

export async function planInstall(target: ClientTarget, spec: EntrySpec, prior: InstallRecord | undefined): Promise<FileChange> {
  const before = await readIfPresent(target.file);
  const doc = withManualStep(() => parseConfigText(before ?? '', target.file), target, spec);
  const entryPath = entryPathOf(target);
  const wasRegistered = valueAt(doc, entryPath) !== undefined;
  let text = before ?? '';
  const created: JSONPath[] = [];
  try {
    if (!isDeepStrictEqual(valueAt(doc, entryPath), spec.entry)) {
      const set = setMember(text, entryPath, spec.entry);
      text = set.text;
      created.push(...set.created);
    }
    if (!isDeepStrictEqual(ourInputs(text), spec.inputs)) {
      text = removeOurInputs(text);
      for (const input of spec.inputs) {
        const appended = appendElement(text, ['inputs'], input);
        text = appended.text;
        created.push(...appended.created);
      }
    }
  } catch (error) {
    throw error instanceof NotAContainerError ? notAContainer(target, error) : error;
  }
  const changed = before === undefined || text !== before;
  // What install created stays on record across reinstalls, until uninstall.
  const kept = wasRegistered ? prior : undefined;
  const record: InstallRecord = {
    file: target.file,
    entryPath,
    created: [...(kept?.created ?? []), ...created],
    createdFile: kept ? kept.createdFile : before === undefined,
    createdDirs: kept ? kept.createdDirs : missingDirs(target.file),
  };
  return { target, before, after: text, changed, wasRegistered, record, removeDirs: [] };
}
