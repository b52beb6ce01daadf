import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { workloadIdentityHandlers } from '../../runtime/identity/token-handlers.js';
import type { AppSpec } from '../../runtime/sandbox/sandbox.js';
import type { KeyedCertificate } from '../../trust/authority.js';
import { testFleetDevice } from '../support/device-signer.js';
import type { DeviceSigner } from '../../trust/workload/token.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';

// Two vendors' apps side by side on one device: each gets tokens only in its own name and only
// for its own granted audiences, whatever it passes. (runtime-tokens.test.ts runs real
// components through the sandbox for the granted and ungranted-audience cases.)
const TD = 'factory.example';
let root: KeyedCertificate;
let signer: DeviceSigner;

beforeAll(async () => {
  ({ root, signer } = await testFleetDevice(TD, 'plc-7', 3_600_000));
});

const spec = (vendor: string, app: string, audiences?: string[]) =>
  ({ identity: { vendor, app, instance: `${vendor}-${app}-1` }, grants: audiences ? { identity: { audiences } } : {} }) as unknown as AppSpec;

const rejection = (p: unknown) =>
  Promise.resolve(p).then(
    () => 'granted',
    (e: { payload?: { tag: string } }) => e.payload?.tag,
  );

describe('an app asking for a workload token', () => {
  it('gets one only in its own name: extra arguments naming another vendor or app change nothing', async () => {
    const handlers = workloadIdentityHandlers(() => signer);
    const asker = handlers(spec('acme', 'sensor', ['historian']))['identity.getToken'] as (...args: unknown[]) => Promise<string>;
    // The WIT function takes only the audience; a guest that passes more is not heard.
    const token = await asker('historian', 'globex', 'analytics', { vendor: 'globex', app: 'analytics' });
    const w = await verifyWorkloadToken(token, { roots: [root.certificate], trustDomain: TD, audience: 'historian' });
    expect(w).toMatchObject({
      vendor: 'acme',
      app: 'sensor',
      instance: 'acme-sensor-1',
      spiffeId: 'spiffe://factory.example/device/plc-7/workload/acme/sensor',
    });
  });

  it("cannot use another app's or another vendor's audience grant", async () => {
    let signed = 0;
    const handlers = workloadIdentityHandlers(() => (signed++, signer));
    const acme = handlers(spec('acme', 'sensor', ['historian']));
    const globex = handlers(spec('globex', 'analytics', ['historian', 'mes']));
    const acmeOther = handlers(spec('acme', 'dashboard'));
    expect(await rejection(acme['identity.getToken']!('mes'))).toBe('audience-not-granted');
    expect(await rejection(acmeOther['identity.getToken']!('historian'))).toBe('audience-not-granted');
    expect(signed).toBe(0);
    const mes = await verifyWorkloadToken((await globex['identity.getToken']!('mes')) as string, {
      roots: [root.certificate],
      trustDomain: TD,
      audience: 'mes',
    });
    expect(mes).toMatchObject({ vendor: 'globex', app: 'analytics' });
  });

  it('has no way in the WIT interface to name anyone but itself', () => {
    const wit = readFileSync(join(projectRoot(), 'wit', 'host.wit'), 'utf8');
    expect(wit).toMatch(/get-token: func\(audience: string\) -> result<string, error>;/);
  });
});
