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

  // One line at a time, and only into an open file. The transport checks the size after each
  // line lands; lines that arrive while it opens or rotates are all written unchecked, and a
  // burst that crosses maxsize while a file is still opening is lost outright (winston 3.19
  // ends that stream unflushed). So a line goes out only once the file is open and the previous
  // line has landed without starting a rotation.
  const queue: string[] = [];
  let ready = false;
  let dropped = 0;
  let drained: (() => void) | undefined;
  const state = transport as unknown as { _rotate?: boolean; _opening?: boolean };
  const pump = () => {
    if (!ready) return;
    const next = queue.shift();
    if (next === undefined) return drained?.();
    ready = false;
    fileLogger.info(next);
  };
  transport.on('open', () => {
    ready = true;
    pump();
  });
  transport.on('logged', () =>
    setImmediate(() => {
      // A rotation started by that line ends with the next 'open'.
      if (state._rotate || state._opening) return;
      ready = true;
      pump();
    }),
  );

  let closed: Promise<void> | undefined;
  return {
    write(record) {
      if (closed) return;
      if (queue.length >= FILE_QUEUE_LINES) {
        // The file stopped taking lines (a dead disk): memory stays bounded.
        queue.shift();
        if (dropped++ === 0) logger.warn(`call log: ${options.file} is not keeping up; dropping the oldest waiting lines`);
      }
      queue.push(JSON.stringify(record));
      pump();
    },
    close(boundMs) {
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, boundMs);
        transport.once('finish', () => {
          clearTimeout(timer);
          resolve();
        });
        const end = () => fileLogger.end();
        if (ready && queue.length === 0) end();
        else drained = end;
      });
      return closed;
    },
  };
}

/** Lines waiting for the file, at most (a few MB): beyond, the oldest are dropped. */
export const FILE_QUEUE_LINES = 10_000;
