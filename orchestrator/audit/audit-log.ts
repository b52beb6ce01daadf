import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { isDeviceId } from '../../wire/ids.js';
import { insertAuditEvents, type AuditRecord } from '../store/audit.js';
import type { Store } from '../store/store.js';

/** Events waiting for the store beyond this are dropped (and counted): a flood must not grow memory. */
const MAX_PENDING = 10_000;
const BATCH = 500;
/** A field's text beyond this is cut: an event names things, it does not carry payloads. */
const MAX_FIELD_CHARS = 2_000;

/**
 * Keeps the control plane's security events in its store (the audit log, docs/audit.md). Raising
 * an event never waits for the store and never fails the request that raised it: events are
 * written in batches soon after, in the order raised, and `flush` waits for what is pending.
 */
export class AuditLog {
  private pending: AuditRecord[] = [];
  private writing: Promise<void> | undefined;
  private dropped = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  record(event: string, fields: Record<string, unknown>): void {
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(recordOf(event, fields));
    this.writing ??= this.write();
  }

  /** Resolves once every event raised so far is in the store (or failed to get there, logged). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async write(): Promise<void> {
    // Let the events of one request gather into one insert.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, BATCH);
      try {
        await insertAuditEvents(this.store, batch);
      } catch (err) {
        this.logger.error({ err: errorMessage(err), events: batch.length }, 'could not keep security events in the audit log; they are in this log only');
      }
    }
    if (this.dropped > 0) {
      this.logger.error({ dropped: this.dropped }, 'security events came faster than the store took them; some are in this log only');
      this.dropped = 0;
    }
    this.writing = undefined;
  }
}

function recordOf(event: string, fields: Record<string, unknown>): AuditRecord {
  const deviceId = fields.deviceId;
  const actor = fields.by ?? fields.name;
  return {
    event,
    actor: typeof actor === 'string' ? actor.slice(0, 200) : null,
    deviceId: isDeviceId(deviceId) ? deviceId : null,
    fields: bounded(fields),
  };
}

/** The fields as JSON the store takes: long text cut, errors as their messages, nothing cyclic. */
function bounded(fields: Record<string, unknown>): Record<string, unknown> {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(fields, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return value.message.slice(0, MAX_FIELD_CHARS);
    if (typeof value === 'string') return value.length > MAX_FIELD_CHARS ? `${value.slice(0, MAX_FIELD_CHARS)}…` : value;
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[cycle]';
      seen.add(value);
    }
    return value;
  });
  return JSON.parse(text ?? '{}') as Record<string, unknown>;
}
