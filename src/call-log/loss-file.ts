import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Lines the database sink could not keep, summed across processes in a small JSON file in the
 * state folder: the server that lost them may be long gone when `comfywire doctor` asks.
 */

export const LOSS_FILE = 'call-log-lost.json';

export interface LossRecord {
  lost: number;
  /** ISO time of the last loss. */
  last: string;
}

export function readLoss(file: string): LossRecord | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<LossRecord>;
    if (typeof data.lost !== 'number' || !Number.isFinite(data.lost) || typeof data.last !== 'string') return undefined;
    return { lost: data.lost, last: data.last };
  } catch {
    return undefined;
  }
}

/** Adds `count`; a failure to record is not worth more than the loss itself, so it is swallowed. */
export function addLoss(file: string, count: number, now: number = Date.now()): void {
  try {
    const dir = dirname(file);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const next: LossRecord = { lost: (readLoss(file)?.lost ?? 0) + count, last: new Date(now).toISOString() };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // nothing better to do
  }
}
