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
  (logger as AuditedLogger)[AUDIT_SINK]?.(event, fields);
}

/** Where a logger's security events are also kept (the control plane's audit log). */
export type AuditSink = (event: string, fields: Record<string, unknown>) => void;

const AUDIT_SINK = Symbol('berth.auditSink');
type AuditedLogger = Logger & { [AUDIT_SINK]?: AuditSink };

/**
 * A child of `logger` whose security events, and those of every logger made from it, also go to
 * `sink`: pino makes a child with its parent as prototype, so the sink is found by inheritance and
 * none of the places raising events needs to know it exists. The caller's logger is left alone.
 */
export function withAuditSink(logger: Logger, sink: AuditSink): Logger {
  const child = logger.child({});
  Object.defineProperty(child, AUDIT_SINK, { value: sink });
  return child;
}

/** A logger that drops everything: for library callers that did not pass one. */
export const silentLogger: Logger = pino({ level: 'silent' });
