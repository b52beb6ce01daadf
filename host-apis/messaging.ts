import type { GrantSet } from '../wire/grants.js';

export type MessagingGrant = NonNullable<GrantSet['messaging']>;

/** `berth:host/messaging` error variant, as the component model lifts it (u64 as bigint). */
export type MessagingError =
  { tag: 'topic-not-granted'; val: string } | { tag: 'payload-too-large'; val: bigint } | { tag: 'queue-full' } | { tag: 'unavailable'; val: string };

/** `berth:host/messaging` `message` record. */
export interface GuestMessage {
  topic: string;
  payload: Uint8Array;
}

/** Thrown to the guest as the `err` case of a result (jco lowers `payload`). */
export function messagingFailure(error: MessagingError): never {
  throw { payload: error };
}

type HostCall = (method: string, args: unknown[]) => unknown;

/**
 * `berth:host/messaging` for one instance. The grant is checked here first, so a refused topic
 * or an oversized payload costs no trip to the broker; the broker, on the controlling thread,
 * checks everything again against the grant it holds for this instance (docs/messaging.md).
 */
export function createMessagingHost(grant: MessagingGrant, hostCall: HostCall | undefined) {
  const mayPublish = new Set(grant.publish);
  const maySubscribe = new Set(grant.subscribe);
  const broker = (method: string, args: unknown[]): unknown => {
    if (!hostCall) messagingFailure({ tag: 'unavailable', val: 'this device has no message broker' });
    return hostCall(`messaging.${method}`, args);
  };
  const subscribable = (topic: string) => {
    if (!maySubscribe.has(topic)) messagingFailure({ tag: 'topic-not-granted', val: topic });
  };
  return {
    publish(topic: string, payload: Uint8Array): void {
      if (!mayPublish.has(topic)) messagingFailure({ tag: 'topic-not-granted', val: topic });
      if (payload.byteLength > grant.maxPayloadBytes) messagingFailure({ tag: 'payload-too-large', val: BigInt(grant.maxPayloadBytes) });
      // A view into a larger buffer would be cloned whole across the thread boundary.
      const compact = payload.byteLength === payload.buffer.byteLength ? payload : payload.slice();
      broker('publish', [topic, compact]);
    },
    subscribe(topic: string): void {
      subscribable(topic);
      broker('subscribe', [topic]);
    },
    unsubscribe(topic: string): void {
      subscribable(topic);
      broker('unsubscribe', [topic]);
    },
    receive(max: number): GuestMessage[] {
      if (max === 0) return [];
      return broker('receive', [max]) as GuestMessage[];
    },
  };
}
