import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/**
 * One structured logger for every part of Berth. Security events carry `security: true` and an
 * `event` name so an operator can route them to an audit sink with a single filter.
 */
export function createLogger(options: LoggerOptions & { name: string }, destination?: DestinationStream): Logger {
  const level = options.level ?? process.env.BERTH_LOG_LEVEL ?? 'info';
  return destination ? pino({ ...options, level }, destination) : pino({ ...options, level });
}

export function securityEvent(logger: Logger, event: string, fields: Record<string, unknown> = {}): void {
  logger.warn({ security: true, event, ...fields }, `security event: ${event}`);
}

/** A logger that drops everything: for library callers that did not pass one. */
export const silentLogger: Logger = pino({ level: 'silent' });
