import { loadConfig } from '../../config.js';
import { CallLogUnavailableError } from '../../errors.js';
import { formatCallTable } from '../../call-log/format.js';
import { readCallsFromFile, readCallsFromPg, type CallFilter } from '../../call-log/read.js';
import type { LogsOptions } from './logs.js';

/** What `comfywire logs` does once its options are valid (loaded only when it runs). */
export async function runLogs(options: LogsOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig(env);
  const filter: CallFilter = { limit: options.limit };
  if (options.since !== undefined) filter.since = options.since;
  if (options.status !== undefined) filter.status = options.status;
  if (options.tool !== undefined) filter.tool = options.tool;
  let records;
  let source: string;
  if (config.databaseUrl) {
    records = await readCallsFromPg(config.databaseUrl, filter);
    source = 'PostgreSQL (DATABASE_URL)';
  } else if (config.callLog) {
    records = await readCallsFromFile(config.callLog.file, filter);
    source = config.callLog.file;
  } else {
    throw new CallLogUnavailableError('The call log is off (COMFYWIRE_CALL_LOG=off) and no DATABASE_URL is set: there is nothing to read.', {
      hint: 'Unset COMFYWIRE_CALL_LOG (or set it to a file path) to log calls to a file, or set DATABASE_URL to log them to PostgreSQL.',
    });
  }
  if (options.json) {
    for (const r of records) process.stdout.write(`${JSON.stringify(r)}\n`);
  } else if (records.length) {
    process.stdout.write(formatCallTable(records));
  }
  process.stderr.write(`${records.length} call(s) from ${source}\n`);
  return 0;
}
