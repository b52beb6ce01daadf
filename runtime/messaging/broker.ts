import type { AppIdentity } from '../../host-apis/app-context.js';
import { messagingFailure, type GuestMessage, type MessagingGrant } from '../../host-apis/messaging.js';
import { Mailbox } from './mailbox.js';

/** Where the broker reports traffic per app (the usage ledger implements it). */
export interface MessagingMeter {
  published(identity: AppIdentity, bytes: number): void;
  received(identity: AppIdentity, messages: number, bytes: number): void;
  dropped(identity: AppIdentity, messages: number): void;
}

/** Per-instance counters; `dropped` counts messages this instance missed because its queue was full. */
export interface MessagingCounters {
  /** Publishes accepted (delivered to at least one subscriber, or to none when nobody listens). */
  published: number;
  /** Publishes refused with `queue-full`: every subscriber's queue was full. */
  refused: number;
  /** Publishes accepted with no subscriber at all: nobody got them. */
  unrouted: number;
  delivered: number;
  received: number;
  dropped: number;
}

export interface SessionStats {
  subscriptions: string[];
  queuedMessages: number;
  queuedBytes: number;
  counters: MessagingCounters;
}

interface Session {
  identity: AppIdentity;
  grant: MessagingGrant;
  mayPublish: Set<string>;
  maySubscribe: Set<string>;
  subscriptions: Set<string>;
  mailbox: Mailbox;
  counters: MessagingCounters;
}

const NO_METER: MessagingMeter = { published() {}, received() {}, dropped() {} };

/**
 * The device's message broker: topics are device-wide names, and every instance that may take
 * part has a session keyed by its instance id (not by thread, so several instances in one
 * thread work the same). Each call names the session through handlers bound to the caller's
 * instance by the runtime; nothing the app says decides who it is. An app publishes only to
 * topics its grant lists under `publish` and hears only topics listed under `subscribe`: a
 * topic shared by two vendors flows only when both deployments grant their side.
 */
export class MessageBroker {
  private readonly sessions = new Map<string, Session>();
  private readonly topics = new Map<string, Set<Session>>();

  constructor(private readonly meter: MessagingMeter = NO_METER) {}

  /** Starts an instance's session; an instance id already open is closed first. */
  open(identity: AppIdentity, grant: MessagingGrant): void {
    this.close(identity.instance);
    this.sessions.set(identity.instance, {
      identity,
      grant,
      mayPublish: new Set(grant.publish),
      maySubscribe: new Set(grant.subscribe),
      subscriptions: new Set(),
      mailbox: new Mailbox({ messages: grant.queueMessages, bytes: grant.queueBytes }),
      counters: { published: 0, refused: 0, unrouted: 0, delivered: 0, received: 0, dropped: 0 },
    });
  }

  /** Ends an instance's session: its subscriptions go, and so do the messages waiting for it. */
  close(instance: string): void {
    const session = this.sessions.get(instance);
    if (!session) return;
    for (const topic of session.subscriptions) this.leave(session, topic);
    session.mailbox.clear();
    this.sessions.delete(instance);
  }

  /**
   * Delivers to every current subscriber whose queue has room. Refused with `queue-full` only
   * when there were subscribers and none had room, so an error always means "nobody got it"
   * and a retry cannot duplicate a message for anyone.
   */
  publish(instance: string, topic: string, payload: Uint8Array): void {
    const session = this.session(instance);
    if (!session.mayPublish.has(topic)) messagingFailure({ tag: 'topic-not-granted', val: topic });
    if (payload.byteLength > session.grant.maxPayloadBytes) messagingFailure({ tag: 'payload-too-large', val: BigInt(session.grant.maxPayloadBytes) });
    const subscribers = this.topics.get(topic);
    if (!subscribers || subscribers.size === 0) {
      session.counters.published++;
      session.counters.unrouted++;
      this.meter.published(session.identity, payload.byteLength);
      return;
    }
    // One copy of the broker's own, shared by every queue: the caller's bytes may be a view of a
    // larger or shared buffer it can still write to. Each guest receives its own copy on the way out.
    const message: GuestMessage = { topic, payload: payload.slice() };
    let delivered = 0;
    for (const subscriber of subscribers) {
      if (subscriber.mailbox.offer(message)) {
        subscriber.counters.delivered++;
        delivered++;
      } else {
        subscriber.counters.dropped++;
        this.meter.dropped(subscriber.identity, 1);
      }
    }
    if (delivered === 0) {
      session.counters.refused++;
      messagingFailure({ tag: 'queue-full' });
    }
    session.counters.published++;
    this.meter.published(session.identity, payload.byteLength);
  }

  subscribe(instance: string, topic: string): void {
    const session = this.session(instance);
    if (!session.maySubscribe.has(topic)) messagingFailure({ tag: 'topic-not-granted', val: topic });
    if (session.subscriptions.has(topic)) return;
    session.subscriptions.add(topic);
    let subscribers = this.topics.get(topic);
    if (!subscribers) this.topics.set(topic, (subscribers = new Set()));
    subscribers.add(session);
  }

  /** Stops future deliveries; messages of that topic already queued stay and can be received. */
  unsubscribe(instance: string, topic: string): void {
    const session = this.session(instance);
    if (!session.maySubscribe.has(topic)) messagingFailure({ tag: 'topic-not-granted', val: topic });
    if (session.subscriptions.delete(topic)) this.leave(session, topic);
  }

  receive(instance: string, max: number): GuestMessage[] {
    const session = this.session(instance);
    const messages = session.mailbox.take(max);
    if (messages.length > 0) {
      session.counters.received += messages.length;
      this.meter.received(
        session.identity,
        messages.length,
        messages.reduce((n, m) => n + m.payload.byteLength, 0),
      );
    }
    return messages;
  }

  stats(instance: string): SessionStats | undefined {
    const s = this.sessions.get(instance);
    if (!s) return undefined;
    return { subscriptions: [...s.subscriptions].sort(), queuedMessages: s.mailbox.length, queuedBytes: s.mailbox.bytes, counters: { ...s.counters } };
  }

  /** Device-wide: open sessions and everything queued, for status and memory-bound checks. */
  totals(): { sessions: number; topics: number; queuedMessages: number; queuedBytes: number } {
    let queuedMessages = 0;
    let queuedBytes = 0;
    for (const s of this.sessions.values()) {
      queuedMessages += s.mailbox.length;
      queuedBytes += s.mailbox.bytes;
    }
    return { sessions: this.sessions.size, topics: this.topics.size, queuedMessages, queuedBytes };
  }

  private session(instance: string): Session {
    const session = this.sessions.get(instance);
    if (!session) messagingFailure({ tag: 'unavailable', val: 'this instance has no messaging session (stopped, or not granted messaging)' });
    return session;
  }

  private leave(session: Session, topic: string): void {
    const subscribers = this.topics.get(topic);
    subscribers?.delete(session);
    if (subscribers?.size === 0) this.topics.delete(topic);
  }
}
