/**
 * Removing comfywire from one client: our entry, the VS Code inputs we own (ids starting with
 * `comfywire-`), and what the install record says install created around them once they are
 * empty again: parent objects, the file, its folders. Nothing else is touched; a file install
 * only added our entry to comes back byte for byte.
 */
import type { ClientTarget } from './clients.js';
import { readIfPresent, removeOurInputs, type FileChange } from './file-change.js';
import { entryPathOf } from './install.js';
import type { InstallRecord } from './install-records.js';
import { parseConfigText, valueAt } from './json-document.js';
import { isBareEmpty, removeMember } from './jsonc-edit.js';

export async function planUninstall(target: ClientTarget, record: InstallRecord | undefined): Promise<FileChange> {
  const before = await readIfPresent(target.file);
  const unchanged: FileChange = { target, before, after: before, changed: false, wasRegistered: false, record: undefined, removeDirs: [] };
  if (before === undefined) return unchanged;
  const doc = parseConfigText(before, target.file);
  const entryPath = entryPathOf(target);
  const wasRegistered = valueAt(doc, entryPath) !== undefined;
  let text = removeOurInputs(removeMember(before, entryPath));
  if (record) {
    // Deepest first: a created `projects["/p"]` can only go once its `mcpServers` has.
    for (const path of [...record.created].sort((a, b) => b.length - a.length)) {
      if (isBareEmpty(text, path)) text = removeMember(text, path);
    }
  }
  const removeFile = !!record?.createdFile && text.trim() === '{}';
  return {
    ...unchanged,
    after: removeFile ? undefined : text,
    changed: removeFile || text !== before,
    wasRegistered,
    removeDirs: removeFile ? record.createdDirs : [],
  };
}
