import winston from 'winston';
import { redactDeep, redactUrls, type Redactor } from './redact.js';

/**
 * Logs go to stderr, never stdout: on the stdio MCP transport stdout carries the protocol,
 * and one stray line there corrupts the client's stream.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export type Logger = winston.Logger;

export interface LoggerOptions {
  json?: boolean;
  /**
   * Applied to the message and every metadata string before a line is written (redactorFor(config)
   * masks the configured secrets). Without one, URL passwords and echoed credentials are still masked.
   */
  redact?: Redactor;
}

/** The first format of every logger: nothing written afterwards has seen a secret. */
const redaction = winston.format((info, opts) => {
  const { redact } = opts as { redact: Redactor };
  // Own string keys only: winston keeps its own bookkeeping under symbols.
  for (const key of Object.keys(info)) info[key] = redactDeep(info[key], redact);
  return info;
});

export function createLogger(level: LogLevel = 'info', options: LoggerOptions = {}): Logger {
  const redact = redaction({ redact: options.redact ?? redactUrls });
  return winston.createLogger({
    level,
    format: options.json
      ? winston.format.combine(redact, winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          redact,
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level: lvl, message, ...rest }) => {
            const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${lvl} ${String(message)}${extra}`;
          }),
        ),
    // stderrLevels covering every level sends all output to stderr.
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
  });
}

/** A logger that drops everything: for tests and benchmarks. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
