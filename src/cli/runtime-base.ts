import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { redactorFor, type Redactor } from '../redact.js';

/**
 * What every command needs first: configuration, a logger on stderr, the redactor. Apart from
 * runtime.ts (engine, call log, simulator) because the stdio server needs this much, and no more,
 * to answer tools/list.
 */
export interface RuntimeBase {
  config: Readonly<Config>;
  logger: Logger;
  redact: Redactor;
}

export function createRuntimeBase(options: { quiet?: boolean; overrides?: Record<string, string | undefined> } = {}): RuntimeBase {
  const config = loadConfig(process.env, { overrides: options.overrides ?? {} });
  const redact = redactorFor(config);
  const logger = createLogger(options.quiet ? 'warn' : config.logLevel, { redact });
  return { config, logger, redact };
}
