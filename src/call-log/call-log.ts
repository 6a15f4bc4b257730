import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { BatchSink, type BatchSinkOptions, type SinkStatus } from './batch-sink.js';
import { createFileSink, type FileSink, type FileSinkOptions } from './file-sink.js';
import { LOSS_FILE, addLoss } from './loss-file.js';
import { PgWriter } from './pg-writer.js';
import type { CallRecord } from './record.js';

/**
 * The call log of one process: every record to the file (when on) and to PostgreSQL (when
 * DATABASE_URL is set). Shared by every MCP session of the process and closed last, after the
 * engine, so the ends of jobs that shutdown decides are logged too.
 */

/** How long shutdown waits for the last lines to reach the file and the database. */
export const CALL_LOG_CLOSE_MS = 2_000;

export interface CallLog {
  /** Never throws, never waits: a tool call must not slow down for its log line. */
  write(record: CallRecord): void;
  /** The PostgreSQL sink's state; undefined without DATABASE_URL. */
  database(): SinkStatus | undefined;
  close(boundMs?: number): Promise<void>;
}

export interface CallLogOptions {
  file?: FileSinkOptions | undefined;
  databaseUrl?: string | undefined;
  /** Where lost database lines are counted for `doctor`. */
  lossFile?: string;
  logger: Logger;
  /** Tests tune the database sink (interval, capacity, backoff). */
  sink?: Partial<Omit<BatchSinkOptions, 'writer' | 'logger' | 'name'>>;
}

/** Undefined when the file is off and no database is configured: nothing to record. */
export function createCallLog(options: CallLogOptions): CallLog | undefined {
  const { logger } = options;
  let file: FileSink | undefined;
  if (options.file) {
    try {
      file = createFileSink(options.file, logger);
    } catch (error) {
      logger.warn(`call log: cannot open ${options.file.file} (${error instanceof Error ? error.message : String(error)}); calls are not logged to a file`);
    }
  }
  const lossFile = options.lossFile;
  const db = options.databaseUrl
    ? new BatchSink({
        writer: new PgWriter(options.databaseUrl),
        logger,
        name: 'PostgreSQL',
        ...(lossFile ? { onLost: (n: number) => addLoss(lossFile, n) } : {}),
        ...options.sink,
      })
    : undefined;
  if (!file && !db) return undefined;
  return {
    write(record) {
      file?.write(record);
      db?.write(record);
    },
    database: () => db?.status(),
    async close(boundMs = CALL_LOG_CLOSE_MS) {
      await Promise.all([file?.close(boundMs), db?.close(boundMs)]);
    },
  };
}

export function callLogFromConfig(config: Readonly<Config>, logger: Logger): CallLog | undefined {
  return createCallLog({
    file: config.callLog,
    databaseUrl: config.databaseUrl,
    lossFile: join(config.stateDir, LOSS_FILE),
    logger,
  });
}
