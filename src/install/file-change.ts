/**
 * One planned change of one client config file, shared by install and uninstall: the text before
 * and after (after = undefined: delete the file we created), written atomically only when it
 * differs, with the install record kept in step.
 */
import { readFile, rm, rmdir } from 'node:fs/promises';
import { parse } from 'jsonc-parser';
import { writeFileAtomic } from './atomic-write.js';
import { INPUT_PREFIX, type ClientTarget } from './clients.js';
import type { InstallRecord, InstallRecords } from './install-records.js';
import { removeMember } from './jsonc-edit.js';

export interface FileChange {
  target: ClientTarget;
  before: string | undefined;
  /** The new text; undefined removes the file (uninstall of a file install created). */
  after: string | undefined;
  changed: boolean;
  /** comfywire had an entry in the file before this change. */
  wasRegistered: boolean;
  /** Install: the record to keep. Uninstall: undefined (the record is dropped). */
  record: InstallRecord | undefined;
  /** Folders to remove (when empty) after the file. */
  removeDirs: string[];
}

export interface Applied {
  written: string | undefined;
  backup: string | undefined;
  removed: boolean;
}

export async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const isOurs = (input: unknown) => typeof (input as { id?: unknown })?.id === 'string' && (input as { id: string }).id.startsWith(INPUT_PREFIX);

/** Our VS Code inputs as they stand in the file. */
export function ourInputs(text: string): unknown[] {
  const inputs = (parse(text, [], { allowTrailingComma: true }) as { inputs?: unknown } | undefined)?.inputs;
  return Array.isArray(inputs) ? inputs.filter(isOurs) : [];
}

/** Removes every input whose id is ours, last first so the indexes stay right. */
export function removeOurInputs(text: string): string {
  for (;;) {
    const inputs = (parse(text, [], { allowTrailingComma: true }) as { inputs?: unknown } | undefined)?.inputs;
    const index = Array.isArray(inputs) ? inputs.map(isOurs).lastIndexOf(true) : -1;
    if (index === -1) return text;
    text = removeMember(text, ['inputs', index]);
  }
}

export async function applyChange(change: FileChange, records: InstallRecords): Promise<Applied> {
  const entryPath = change.record?.entryPath ?? [...change.target.serversPath, 'comfywire'];
  if (!change.changed) return { written: undefined, backup: undefined, removed: false };
  let applied: Applied;
  if (change.after === undefined) {
    await rm(change.target.file, { force: true });
    for (const dir of change.removeDirs) await rmdir(dir).catch(() => undefined); // kept when something else is inside
    applied = { written: undefined, backup: undefined, removed: true };
  } else {
    const { file, backup } = await writeFileAtomic(change.target.file, change.after, { createMode: change.target.createMode });
    applied = { written: file, backup, removed: false };
  }
  if (change.record) await records.put(change.record);
  else await records.drop(change.target.file, entryPath);
  return applied;
}
