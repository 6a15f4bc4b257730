/**
 * What `install` created around its entry (the file, its folders, empty parent objects such as
 * `mcpServers` or VS Code's `inputs`), so `uninstall` removes exactly that and nothing else. An
 * empty `"mcpServers": {}` Claude Code wrote itself must stay; one we added must go. Kept in the
 * per-user state folder, private to its owner; a file's own text never goes there.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JSONPath } from 'jsonc-parser';
import { writeFileAtomic } from './atomic-write.js';

export interface InstallRecord {
  file: string;
  entryPath: string[];
  /** Containers install added (the outermost of each chain), removed again once empty. */
  created: JSONPath[];
  /** The file did not exist before install. */
  createdFile: boolean;
  /** Folders install created for the file, innermost first. */
  createdDirs: string[];
}

interface RecordFile {
  version: 1;
  records: InstallRecord[];
}

const sameEntry = (a: InstallRecord, file: string, entryPath: readonly string[]) => a.file === file && JSON.stringify(a.entryPath) === JSON.stringify(entryPath);

export class InstallRecords {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'installs.json');
  }

  private async load(): Promise<InstallRecord[]> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as Partial<RecordFile>;
      return Array.isArray(parsed.records) ? parsed.records : [];
    } catch {
      return []; // none yet, or unreadable: uninstall then removes the entry alone
    }
  }

  private async store(records: InstallRecord[]): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, records } satisfies RecordFile, null, 2)}\n`, { createMode: 0o600, backup: false });
  }

  async find(file: string, entryPath: readonly string[]): Promise<InstallRecord | undefined> {
    return (await this.load()).find((r) => sameEntry(r, file, entryPath));
  }

  async put(record: InstallRecord): Promise<void> {
    const others = (await this.load()).filter((r) => !sameEntry(r, record.file, record.entryPath));
    await this.store([...others, record]);
  }

  async drop(file: string, entryPath: readonly string[]): Promise<void> {
    const records = await this.load();
    const kept = records.filter((r) => !sameEntry(r, file, entryPath));
    if (kept.length !== records.length) await this.store(kept);
  }
}
