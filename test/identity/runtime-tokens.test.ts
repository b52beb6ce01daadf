import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workloadIdentityHandlers } from '../../runtime/identity/token-handlers.js';
import { Runtime } from '../../runtime/runtime.js';
import type { KeyedCertificate } from '../../trust/authority.js';
import { testFleetDevice } from '../support/device-signer.js';
import type { DeviceSigner } from '../../trust/workload/token.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { suiteTempDir } from '../support/tmp.js';

const TD = 'factory.example';

for (const tier of ['worker', 'process'] as const)
  describe(`an app asking its host for a workload token (${tier} tier)`, () => {
    let root: KeyedCertificate;
    let signer: DeviceSigner;
    const issued: string[] = [];
    const lines: { app?: string; msg: string }[] = [];
    let runtime: Runtime;

    beforeAll(async () => {
      ({ root, signer } = await testFleetDevice(TD, 'plc-7', 3_600_000));
      const handlers = workloadIdentityHandlers(() => signer);
      const log = (o: { app?: string }, msg: string) => lines.push({ app: o.app, msg });
      runtime = new Runtime({
        dataDir: suiteTempDir(`tokens-${tier}`),
        logger: { info: log, warn: log, error: log, debug() {}, trace() {} } as never,
        backoff: { initialMs: 60_000, maxMs: 60_000, factor: 2, resetAfterMs: 60_000 },
        // Record what the host hands out, to verify it as a relying party would.
        hostHandlers: (spec) => {
          const h = handlers(spec);
          return {
            'identity.getToken': async (aud: unknown) => {
              const t = (await h['identity.getToken']!(aud)) as string;
              issued.push(t);
              return t;
            },
          };
        },
      });
    });
    afterAll(() => runtime.close());

    it('gets a token for a granted audience that verifies offline and names this device, vendor and app', async () => {
      await runtime.startApp(readFileSync(fixturePath('ungranted')), {
        vendor: 'acme',
        app: 'asker',
        grants: { log: {}, identity: { audiences: ['anything'] } },
        tier,
      });
      await waitFor(() => lines.some((l) => l.app === 'asker' && l.msg === 'got a token'), 15_000, 'the app to log its token');
      expect(issued).toHaveLength(1);
      const w = await verifyWorkloadToken(issued[0]!, { roots: [root.certificate], trustDomain: TD, audience: 'anything' });
      expect(w).toMatchObject({ deviceId: 'plc-7', vendor: 'acme', app: 'asker' });
    });

    it('is refused a token for an audience it was not granted, and nothing is signed', async () => {
      const before = issued.length;
      const app = await runtime.startApp(readFileSync(fixturePath('ungranted')), {
        vendor: 'acme',
        app: 'greedy',
        grants: { log: {}, identity: { audiences: ['historian'] } },
        tier,
      });
      const stop = await new Promise<{ reason: string; message: string }>((resolve) => app.once('stopped', resolve));
      expect(stop).toMatchObject({ reason: 'failed', message: 'run returned an error: get-token refused' });
      expect(issued.length).toBe(before);
      await app.stop();
    });
  });

describe('the host side checks the grant itself', () => {
  it('refuses an audience outside the instance grant even if the guest-side check were bypassed', async () => {
    let signed = 0;
    const handlers = workloadIdentityHandlers(() => {
      signed++;
      return undefined;
    });
    const spec = { identity: { vendor: 'acme', app: 'a', instance: 'i' }, grants: { identity: { audiences: ['historian'] } } } as never;
    await expect(handlers(spec)['identity.getToken']!('mes')).rejects.toEqual({ payload: { tag: 'audience-not-granted', val: 'mes' } });
    await expect(handlers(spec)['identity.getToken']!(42)).rejects.toMatchObject({ payload: { tag: 'unavailable' } });
    expect(signed).toBe(0);
    // Granted, but the device has no certificate yet: unavailable, not a crash.
    await expect(handlers(spec)['identity.getToken']!('historian')).rejects.toEqual({
      payload: { tag: 'unavailable', val: 'this device has no certificate yet' },
    });
  });
});
