import type { GuestMessage } from '../../host-apis/messaging.js';

export interface MailboxLimits {
  messages: number;
  /** Payload and topic-name bytes together. */
  bytes: number;
}

/** What one queued message costs the device, as the queue limits count it. */
export function messageBytes(topic: string, payload: Uint8Array): number {
  return Buffer.byteLength(topic) + payload.byteLength;
}

/**
 * The messages waiting for one instance, bounded in count and bytes. When full, the oldest are
 * kept and the newcomer is refused: what the app already has stays in order, and the gap shows
 * in its dropped counter rather than as silently missing history.
 */
export class Mailbox {
  private readonly queue: GuestMessage[] = [];
  private queuedBytes = 0;

  constructor(readonly limits: MailboxLimits) {}

  get length(): number {
    return this.queue.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /** Queues the message if it fits; false when it does not. */
  offer(message: GuestMessage): boolean {
    const size = messageBytes(message.topic, message.payload);
    if (this.queue.length >= this.limits.messages || this.queuedBytes + size > this.limits.bytes) return false;
    this.queue.push(message);
    this.queuedBytes += size;
    return true;
  }

  /** Up to `max` messages, oldest first. */
  take(max: number): GuestMessage[] {
    const taken = this.queue.splice(0, Math.min(max, this.queue.length));
    for (const m of taken) this.queuedBytes -= messageBytes(m.topic, m.payload);
    return taken;
  }

  clear(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
