import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import winston from 'winston';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CallRecord } from './record.js';

/**
 * The call log's file: one JSON line per record, through winston's File transport, rotated by
 * size with `tailable` (the newest lines are always in the configured file; older ones move to
 * calls1.jsonl, calls2.jsonl... and the oldest beyond maxFiles is deleted). Prompts are private:
 * the file is created 0600, and a folder we create is 0700.
 */

export interface FileSinkOptions {
  file: string;
  maxBytes: number;
  maxFiles: number;
}

export interface FileSink {
  write(record: CallRecord): void;
  /** Flushes what was written; gives up after `boundMs` (the lines are then in the OS's hands or lost). */
  close(boundMs: number): Promise<void>;
}

/** The rotated siblings of `file`, as the File transport names them (calls.jsonl -> calls1.jsonl, ...). */
export function rotatedName(file: string, n: number): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}${n}${ext}`);
}

export function createFileSink(options: FileSinkOptions, logger: Logger): FileSink {
  const dir = dirname(options.file);
  // Only folders created here get 0700: an existing folder (the user's choice) keeps its mode.
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(options.file)) chmodSync(options.file, 0o600);
  const transport = new winston.transports.File({
    filename: options.file,
    maxsize: options.maxBytes,
    maxFiles: options.maxFiles,
    tailable: true,
    eol: '\n',
    options: { flags: 'a', mode: 0o600 },
  });
  const fileLogger = winston.createLogger({
    level: 'info',
    format: winston.format.printf((info) => String(info.message)),
    transports: [transport],
  });
  let warned = false;
  // A full disk or a revoked permission must not take the server down: say it once, keep serving.
  fileLogger.on('error', (error: unknown) => {
    if (warned) return;
    warned = true;
    logger.warn(`call log: cannot write ${options.file}: ${describeError(error)}`);
  });
  let closed: Promise<void> | undefined;
  return {
    write(record) {
      if (closed) return;
      fileLogger.info(JSON.stringify(record));
    },
    close(boundMs) {
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, boundMs);
        transport.once('finish', () => {
          clearTimeout(timer);
          resolve();
        });
        fileLogger.end();
      });
      return closed;
    },
  };
}
