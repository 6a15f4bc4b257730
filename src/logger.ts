import winston from 'winston';

/**
 * Logs go to stderr, never stdout: on the stdio MCP transport stdout carries the protocol,
 * and one stray line there corrupts the client's stream.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export type Logger = winston.Logger;

export function createLogger(level: LogLevel = 'info', options: { json?: boolean } = {}): Logger {
  return winston.createLogger({
    level,
    format: options.json
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
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
