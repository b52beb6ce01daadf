import { describe, expect, it } from 'vitest';
import type { AppIdentity } from '../../host-apis/app-context.js';
import { parseGrants } from '../../host-apis/grants.js';
import { MessageBroker } from '../../runtime/messaging/broker.js';
import { withMessaging } from '../../runtime/messaging/handlers.js';
import type { StopReport } from '../../runtime/sandbox/protocol.js';
import type { AppSpec, Sandbox, SandboxFactory, SandboxHooks } from '../../runtime/sandbox/sandbox.js';
import { DEFAULT_LIMITS } from '../../runtime/sandbox/sandbox.js';
import type { CompiledComponent } from '../../runtime/engine/engine.js';

const identity: AppIdentity = { vendor: 'acme', app: 'sub', instance: 'instance-1' };
const spec: AppSpec = {
  identity,
  digest: `sha256:${'0'.repeat(64)}` as AppSpec['digest'],
  grants: parseGrants({ messaging: { subscribe: ['t'] } }),
  dataDir: '/nonexistent',
  limits: DEFAULT_LIMITS,
};
const compiled = {} as CompiledComponent;

/** A sandbox that asks for its handlers as a tier would, and ends when told. */
class FakeSandbox implements Sandbox {
  readonly tier = 'worker' as const;
  readonly exports: string[] = [];
  readonly memoryPages = 0;
  private readonly listeners: ((r: StopReport) => void)[] = [];
  constructor(readonly hooks: SandboxHooks) {}
  call(method: string, ...args: unknown[]): unknown {
    return this.hooks.hostHandlers!(spec)[method]?.(...args) ?? 'no such method';
  }
  invoke() {
    return Promise.resolve({ ok: true as const, value: undefined });
  }
  async stop() {
    for (const l of this.listeners) l({ reason: 'stopped', message: 'stopped', at: Date.now() });
  }
  onStop(listener: (r: StopReport) => void) {
    this.listeners.push(listener);
  }
}

describe('withMessaging: a session per instance, opened once, closed when the instance ends', () => {
  it('keeps the session when a tier asks for the handlers on every call, and never reopens it after the end', async () => {
    const broker = new MessageBroker();
    let sandbox!: FakeSandbox;
    const factory: SandboxFactory = async (_c, _s, hooks) => (sandbox = new FakeSandbox(hooks));
    await withMessaging(factory, broker)(compiled, spec, { log: () => {} });
    sandbox.call('messaging.subscribe', 't');
    sandbox.call('messaging.receive', 1);
    expect(broker.stats(identity.instance)?.subscriptions).toEqual(['t']);
    await sandbox.stop();
    expect(broker.totals().sessions).toBe(0);
    // A late call after the end finds the session closed; no new session is opened.
    expect(() => sandbox.call('messaging.receive', 1)).toThrow(expect.objectContaining({ payload: expect.objectContaining({ tag: 'unavailable' }) }));
    expect(broker.totals().sessions).toBe(0);
  });

  it('closes the session of an instance that fails to start', async () => {
    const broker = new MessageBroker();
    const factory: SandboxFactory = async (_c, s, hooks) => {
      hooks.hostHandlers!(s);
      throw new Error('instantiation failed');
    };
    await expect(withMessaging(factory, broker)(compiled, spec, { log: () => {} })).rejects.toThrow('instantiation failed');
    expect(broker.totals().sessions).toBe(0);
  });

  it("keeps the runtime's own handlers beside the messaging ones", async () => {
    const broker = new MessageBroker();
    let sandbox!: FakeSandbox;
    const factory: SandboxFactory = async (_c, _s, hooks) => (sandbox = new FakeSandbox(hooks));
    await withMessaging(factory, broker)(compiled, spec, { log: () => {}, hostHandlers: () => ({ 'identity.getToken': () => 'token' }) });
    expect(sandbox.call('identity.getToken')).toBe('token');
    expect(sandbox.call('messaging.receive', 1)).toEqual([]);
  });
});
