import type { CallLog } from './call-log.js';
import type { CallRecord } from './record.js';

/**
 * The call log of a server built before its call log is opened (stdio: the file sink and pg load
 * after the first answer). Lines written before `bind` wait here and go out in order; binding
 * `undefined` (the file could not be opened, nothing configured) drops them, as no log would.
 */
export class DeferredCallLog implements CallLog {
  private target: CallLog | undefined;
  private bound = false;
  private pending: CallRecord[] = [];

  bind(target: CallLog | undefined): void {
    this.target = target;
    this.bound = true;
    for (const record of this.pending.splice(0)) target?.write(record);
  }

  write(record: CallRecord): void {
    if (this.bound) this.target?.write(record);
    else this.pending.push(record);
  }

  database(): ReturnType<CallLog['database']> {
    return this.target?.database();
  }

  async close(boundMs?: number): Promise<void> {
    this.pending = [];
    await this.target?.close(boundMs);
  }
}
