import { messagingFailure } from '../../host-apis/messaging.js';
import type { BridgeHandlers } from '../sandbox/bridge.js';
import type { AppSpec, Sandbox, SandboxFactory, SandboxHooks } from '../sandbox/sandbox.js';
import type { MessageBroker } from './broker.js';

/** Values arrive by structured clone from the sandbox: check their shape, trust nothing else. */
function badArgument(what: string): never {
  messagingFailure({ tag: 'unavailable', val: `bad ${what}` });
}
const topicArg = (v: unknown): string => (typeof v === 'string' ? v : badArgument('topic'));
const payloadArg = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : badArgument('payload'));
const maxArg = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : badArgument('max'));

/**
 * The bridge methods `berth:host/messaging` calls, bound to one instance: the instance id comes
 * from the spec the runtime built, never from the app. Opens the instance's broker session.
 */
export function messagingHandlers(broker: MessageBroker, spec: AppSpec): BridgeHandlers {
  const grant = spec.grants.messaging;
  if (!grant) return {};
  const instance = spec.identity.instance;
  broker.open(spec.identity, grant);
  return {
    'messaging.publish': (topic: unknown, payload: unknown) => broker.publish(instance, topicArg(topic), payloadArg(payload)),
    'messaging.subscribe': (topic: unknown) => broker.subscribe(instance, topicArg(topic)),
    'messaging.unsubscribe': (topic: unknown) => broker.unsubscribe(instance, topicArg(topic)),
    'messaging.receive': (max: unknown) => broker.receive(instance, maxArg(max)),
  };
}

/**
 * Wraps a sandbox factory of any tier: each instance it starts gets messaging handlers beside
 * the runtime's own, and its broker session is closed when that instance ends (or fails to
 * start). A restarted instance starts with no subscriptions and subscribes again itself.
 * A tier may ask for an instance's handlers more than once (the process tier asks per call):
 * the session is opened once, and never again after the instance has ended.
 */
export function withMessaging(factory: SandboxFactory, broker: MessageBroker): SandboxFactory {
  return async (compiled, spec, hooks) => {
    const sessions = new Map<string, BridgeHandlers>();
    let ended = false;
    const release = () => {
      ended = true;
      for (const instance of sessions.keys()) broker.close(instance);
    };
    const withHandlers: SandboxHooks = {
      ...hooks,
      hostHandlers: (s: AppSpec) => {
        const own = hooks.hostHandlers?.(s) ?? {};
        if (!s.grants.messaging) return own;
        let handlers = sessions.get(s.identity.instance);
        if (!handlers) {
          if (ended) return own;
          handlers = messagingHandlers(broker, s);
          sessions.set(s.identity.instance, handlers);
        }
        return { ...own, ...handlers };
      },
    };
    let sandbox: Sandbox;
    try {
      sandbox = await factory(compiled, spec, withHandlers);
    } catch (err) {
      release();
      throw err;
    }
    sandbox.onStop(release);
    return sandbox;
  };
}
