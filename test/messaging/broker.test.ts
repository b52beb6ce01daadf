import { describe, expect, it } from 'vitest';
import type { AppIdentity } from '../../host-apis/app-context.js';
import { parseGrants } from '../../host-apis/grants.js';
import { createMessagingHost } from '../../host-apis/messaging.js';
import { MessageBroker, type MessagingMeter } from '../../runtime/messaging/broker.js';
import { messagingHandlers } from '../../runtime/messaging/handlers.js';
import { messageBytes } from '../../runtime/messaging/mailbox.js';
import type { AppSpec } from '../../runtime/sandbox/sandbox.js';
import { DEFAULT_LIMITS } from '../../runtime/sandbox/sandbox.js';

const text = new TextEncoder();
let nextInstance = 1;

function spec(vendor: string, app: string, messaging: unknown): AppSpec {
  const identity: AppIdentity = { vendor, app, instance: `instance-${nextInstance++}` };
  return {
    identity,
    digest: `sha256:${'0'.repeat(64)}` as AppSpec['digest'],
    grants: parseGrants({ messaging }),
    dataDir: '/nonexistent',
    limits: DEFAULT_LIMITS,
  };
}

/** The guest-facing object of one instance, calling the broker as the bridge would. */
function app(broker: MessageBroker, s: AppSpec) {
  const handlers = messagingHandlers(broker, s);
  const calls: string[] = [];
  const host = createMessagingHost(s.grants.messaging!, (method, args) => {
    calls.push(method);
    return handlers[method]!(...structuredClone(args));
  });
  return { host, calls, handlers, instance: s.identity.instance };
}

const errorOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return (err as { payload: unknown }).payload;
  }
  throw new Error('expected an error');
};

describe('message broker: two vendors, grants on both sides', () => {
  it('delivers from acme to globex when acme may publish and globex may subscribe', () => {
    const broker = new MessageBroker();
    const acme = app(broker, spec('acme', 'sensor', { publish: ['line1/temp'] }));
    const globex = app(broker, spec('globex', 'dashboard', { subscribe: ['line1/temp'] }));
    globex.host.subscribe('line1/temp');
    acme.host.publish('line1/temp', text.encode('21.5'));
    acme.host.publish('line1/temp', text.encode('21.7'));
    const got = globex.host.receive(10);
    expect(got.map((m) => [m.topic, Buffer.from(m.payload).toString()])).toEqual([
      ['line1/temp', '21.5'],
      ['line1/temp', '21.7'],
    ]);
    expect(globex.host.receive(10)).toEqual([]);
    expect(broker.stats(acme.instance)?.counters).toMatchObject({ published: 2, unrouted: 0 });
    expect(broker.stats(globex.instance)?.counters).toMatchObject({ delivered: 2, received: 2, dropped: 0 });
  });

  it('refuses a publish without the publish grant, naming the topic, before reaching the broker', () => {
    const broker = new MessageBroker();
    const acme = app(broker, spec('acme', 'sensor', { subscribe: ['line1/temp'] }));
    expect(errorOf(() => acme.host.publish('line1/temp', text.encode('x')))).toEqual({ tag: 'topic-not-granted', val: 'line1/temp' });
    expect(acme.calls).toEqual([]);
    // The broker refuses it too, should the guest-side check ever be bypassed.
    expect(errorOf(() => acme.handlers['messaging.publish']!('line1/temp', text.encode('x')))).toEqual({ tag: 'topic-not-granted', val: 'line1/temp' });
  });

  it('refuses a subscribe without the subscribe grant, naming the topic, on both sides of the bridge', () => {
    const broker = new MessageBroker();
    const globex = app(broker, spec('globex', 'dashboard', { publish: ['line1/temp'] }));
    expect(errorOf(() => globex.host.subscribe('line1/temp'))).toEqual({ tag: 'topic-not-granted', val: 'line1/temp' });
    expect(errorOf(() => globex.handlers['messaging.subscribe']!('line1/temp'))).toEqual({ tag: 'topic-not-granted', val: 'line1/temp' });
    expect(errorOf(() => globex.host.unsubscribe('line1/temp'))).toEqual({ tag: 'topic-not-granted', val: 'line1/temp' });
  });

  it('a topic granted to only one side does not flow: the ungranted vendor never hears it', () => {
    const broker = new MessageBroker();
    const acme = app(broker, spec('acme', 'sensor', { publish: ['shared'] }));
    const globex = app(broker, spec('globex', 'dashboard', { subscribe: ['other'] }));
    globex.host.subscribe('other');
    expect(errorOf(() => globex.host.subscribe('shared'))).toEqual({ tag: 'topic-not-granted', val: 'shared' });
    acme.host.publish('shared', text.encode('secret'));
    expect(globex.host.receive(10)).toEqual([]);
    expect(broker.stats(acme.instance)?.counters).toMatchObject({ published: 1, unrouted: 1 });
  });

  it("refuses a payload over the publisher's limit, on both sides of the bridge", () => {
    const broker = new MessageBroker();
    const acme = app(broker, spec('acme', 'sensor', { publish: ['t'], maxPayloadBytes: 100 }));
    expect(errorOf(() => acme.host.publish('t', new Uint8Array(101)))).toEqual({ tag: 'payload-too-large', val: 100n });
    expect(acme.calls).toEqual([]);
    expect(errorOf(() => acme.handlers['messaging.publish']!('t', new Uint8Array(101)))).toEqual({ tag: 'payload-too-large', val: 100n });
    acme.host.publish('t', new Uint8Array(100));
  });

  it('a slow subscriber fills its own queue only: oldest kept, newest dropped and counted, memory bounded', () => {
    const meter = { dropped: 0, published: 0, received: 0 };
    const broker = new MessageBroker({
      published: () => meter.published++,
      received: (_, n) => (meter.received += n),
      dropped: (_, n) => (meter.dropped += n),
    } satisfies MessagingMeter);
    const limits = { queueMessages: 50, queueBytes: 4096 };
    const acme = app(broker, spec('acme', 'sensor', { publish: ['t'] }));
    const slow = app(broker, spec('globex', 'slow', { subscribe: ['t'], ...limits }));
    slow.host.subscribe('t');
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const payload = text.encode(`m${i}`.padEnd(100, '.'));
      let outcome = 'ok';
      try {
        acme.host.publish('t', payload);
      } catch (err) {
        outcome = (err as { payload: { tag: string } }).payload.tag;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      expect(broker.totals().queuedBytes).toBeLessThanOrEqual(limits.queueBytes);
      expect(broker.totals().queuedMessages).toBeLessThanOrEqual(limits.queueMessages);
    }
    // 4096 bytes / (100 payload + 1 topic) = 40 messages fit, before the 50-message limit.
    const fits = Math.floor(limits.queueBytes / messageBytes('t', new Uint8Array(100)));
    expect(outcomes).toEqual(
      new Map([
        ['ok', fits],
        ['queue-full', 1000 - fits],
      ]),
    );
    expect(broker.stats(slow.instance)?.counters).toMatchObject({ delivered: fits, dropped: 1000 - fits });
    expect(broker.stats(acme.instance)?.counters).toMatchObject({ published: fits, refused: 1000 - fits });
    expect(meter).toEqual({ published: fits, dropped: 1000 - fits, received: 0 });

    // The publisher keeps working: a subscriber with room gets new messages, the full one still drops.
    const fast = app(broker, spec('initech', 'fast', { subscribe: ['t'] }));
    fast.host.subscribe('t');
    acme.host.publish('t', text.encode('after'.padEnd(100, '.')));
    expect(fast.host.receive(5).map((m) => Buffer.from(m.payload).toString().replace(/\.+$/, ''))).toEqual(['after']);
    expect(broker.stats(slow.instance)?.counters.dropped).toBe(1000 - fits + 1);
    // The slow one has the oldest messages, in order.
    const first = slow.host.receive(2).map((m) => Buffer.from(m.payload).toString().replace(/\.+$/, ''));
    expect(first).toEqual(['m0', 'm1']);
  });

  it('receive(max) takes at most max, oldest first', () => {
    const broker = new MessageBroker();
    const pub = app(broker, spec('acme', 'p', { publish: ['a', 'b'] }));
    const sub = app(broker, spec('globex', 's', { subscribe: ['a', 'b'] }));
    sub.host.subscribe('a');
    sub.host.subscribe('b');
    for (const [t, v] of [
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ] as const)
      pub.host.publish(t, text.encode(v));
    expect(sub.host.receive(0)).toEqual([]);
    expect(sub.host.receive(2).map((m) => `${m.topic}=${Buffer.from(m.payload)}`)).toEqual(['a=1', 'b=2']);
    expect(sub.host.receive(2).map((m) => `${m.topic}=${Buffer.from(m.payload)}`)).toEqual(['a=3']);
  });

  it('unsubscribe stops future deliveries; messages already queued stay', () => {
    const broker = new MessageBroker();
    const pub = app(broker, spec('acme', 'p', { publish: ['t'] }));
    const sub = app(broker, spec('globex', 's', { subscribe: ['t'] }));
    sub.host.subscribe('t');
    sub.host.subscribe('t'); // idempotent
    pub.host.publish('t', text.encode('before'));
    sub.host.unsubscribe('t');
    sub.host.unsubscribe('t'); // idempotent
    pub.host.publish('t', text.encode('after'));
    expect(sub.host.receive(10).map((m) => Buffer.from(m.payload).toString())).toEqual(['before']);
    expect(broker.stats(sub.instance)?.subscriptions).toEqual([]);
    expect(broker.stats(pub.instance)?.counters.unrouted).toBe(1);
  });

  it('closing an instance removes its subscriptions and queued messages; its handlers answer unavailable', () => {
    const broker = new MessageBroker();
    const pub = app(broker, spec('acme', 'p', { publish: ['t'] }));
    const sub = app(broker, spec('globex', 's', { subscribe: ['t'] }));
    sub.host.subscribe('t');
    pub.host.publish('t', new Uint8Array(10));
    expect(broker.totals()).toMatchObject({ sessions: 2, topics: 1, queuedMessages: 1 });
    broker.close(sub.instance);
    expect(broker.totals()).toEqual({ sessions: 1, topics: 0, queuedMessages: 0, queuedBytes: 0 });
    expect(broker.stats(sub.instance)).toBeUndefined();
    expect(errorOf(() => sub.host.receive(1))).toMatchObject({ tag: 'unavailable' });
    pub.host.publish('t', new Uint8Array(10));
    expect(broker.stats(pub.instance)?.counters.unrouted).toBe(1);
  });

  it('keys sessions by instance: two instances of one app are two subscribers', () => {
    const broker = new MessageBroker();
    const pub = app(broker, spec('acme', 'p', { publish: ['t'] }));
    const a = app(broker, spec('globex', 's', { subscribe: ['t'] }));
    const b = app(broker, spec('globex', 's', { subscribe: ['t'] }));
    a.host.subscribe('t');
    b.host.subscribe('t');
    pub.host.publish('t', text.encode('x'));
    expect(a.host.receive(5)).toHaveLength(1);
    expect(b.host.receive(5)).toHaveLength(1);
  });

  it('knows the caller only from the runtime: extra arguments naming another instance change nothing', () => {
    const broker = new MessageBroker();
    const pub = app(broker, spec('acme', 'p', { publish: ['t'] }));
    const victim = app(broker, spec('globex', 'victim', { subscribe: ['t'] }));
    const thief = app(broker, spec('initech', 'thief', { subscribe: ['t'] }));
    victim.host.subscribe('t');
    pub.host.publish('t', text.encode('for the victim'));
    // The thief's handlers are bound to the thief's instance; whatever it passes along is ignored.
    expect(thief.handlers['messaging.receive']!(10, victim.instance, { vendor: 'globex', app: 'victim', instance: victim.instance })).toEqual([]);
    expect(victim.host.receive(10)).toHaveLength(1);
    // An app without the messaging grant gets no messaging handlers at all.
    expect(messagingHandlers(broker, spec('initech', 'none', undefined as never))).toEqual({});
  });

  it("keeps its own copy of a payload: later writes to the publisher's buffer change nothing queued", () => {
    const broker = new MessageBroker();
    const pub = app(broker, spec('acme', 'p', { publish: ['t'] }));
    const sub = app(broker, spec('globex', 's', { subscribe: ['t'] }));
    sub.host.subscribe('t');
    const shared = new Uint8Array(new SharedArrayBuffer(8));
    shared.set(text.encode('original'));
    pub.handlers['messaging.publish']!('t', shared);
    shared.set(text.encode('MUTATED!'));
    const [m] = sub.handlers['messaging.receive']!(1) as { payload: Uint8Array }[];
    expect(Buffer.from(m!.payload).toString()).toBe('original');
    expect(m!.payload.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('checks the shape of what crosses the bridge', () => {
    const broker = new MessageBroker();
    const pub = app(broker, spec('acme', 'p', { publish: ['t'], subscribe: ['t'] }));
    expect(errorOf(() => pub.handlers['messaging.publish']!(42, new Uint8Array(1)))).toEqual({ tag: 'unavailable', val: 'bad topic' });
    expect(errorOf(() => pub.handlers['messaging.publish']!('t', 'not bytes'))).toEqual({ tag: 'unavailable', val: 'bad payload' });
    expect(errorOf(() => pub.handlers['messaging.receive']!(-1))).toEqual({ tag: 'unavailable', val: 'bad max' });
    expect(errorOf(() => pub.handlers['messaging.subscribe']!({ toString: () => 't' }))).toEqual({ tag: 'unavailable', val: 'bad topic' });
  });

  it('answers unavailable when the device has no broker', () => {
    const host = createMessagingHost(parseGrants({ messaging: { publish: ['t'] } }).messaging!, undefined);
    expect(errorOf(() => host.publish('t', new Uint8Array(1)))).toMatchObject({ tag: 'unavailable' });
  });

  it('grants: limits have safe defaults and bounded maxima', () => {
    expect(parseGrants({ messaging: {} }).messaging).toEqual({ publish: [], subscribe: [], maxPayloadBytes: 65536, queueMessages: 256, queueBytes: 1048576 });
    expect(() => parseGrants({ messaging: { queueBytes: 2 ** 40 } })).toThrow(/invalid grant messaging\.queueBytes/);
    expect(() => parseGrants({ messaging: { publish: ['bad topic!'] } })).toThrow(/invalid grant messaging\.publish\.0: topic names/);
  });
});
