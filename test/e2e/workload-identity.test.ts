import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoApps, defaultDemoCache } from '../../cli/demo/apps.js';
import { DEMO_GRANTS } from '../../cli/demo/grants.js';
import { publishSignedApp } from '../../cli/demo/publish.js';
import { startLocalDevice, startLocalFleet, type LocalFleet } from '../../cli/demo/stack.js';
import { gatewayGet, waitUntil } from '../../cli/demo/wait.js';
import { silentLogger } from '../../common/logger.js';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import { fetchRevocationDocument } from '../../trust/revocation/fetch.js';
import { RevocationList } from '../../trust/revocation/list.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { suiteTempDir } from '../support/tmp.js';

const TD = 'e2e.berth.local';

// Workload identity through the real path: a signed app deployed by the control plane, run by
// the device agent, asking its host for tokens; a relying party verifying them offline with
// nothing but the fleet roots and, after the device is revoked, the published revocation list.
describe('workload identity end to end', () => {
  let fleet: LocalFleet;
  let agent: RunningAgent;
  const summary = async () => (await gatewayGet(agent.gatewayPort!, '/analytics/summary')).body;

  beforeAll(async () => {
    const dir = suiteTempDir('e2e-identity');
    const { analytics } = await buildDemoApps(defaultDemoCache());
    fleet = await startLocalFleet(dir, TD, silentLogger);
    await publishSignedApp({
      admin: fleet.admin,
      controlPlaneUrl: fleet.controlPlane.url,
      ca: fleet.ca,
      registry: fleet.registry.host,
      vendor: 'globex',
      app: 'analytics',
      version: '1.0.0',
      component: analytics,
    });
    agent = await startLocalDevice(fleet, { id: 'cell-7', labels: { site: 'e2e' }, dataDir: `${dir}/device` }, silentLogger);
    await fleet.admin.call('POST', '/api/v1/admin/deployments', {
      id: 'analytics',
      app: 'analytics',
      version: '1.0.0',
      grants: DEMO_GRANTS.analytics.grants,
      deviceIds: ['cell-7'],
    });
    await waitUntil(120_000, 'the app to answer', async () => (await gatewayGet(agent.gatewayPort!, '/analytics/')).status === 200);
  }, 240_000);
  afterAll(async () => {
    await agent?.stop();
    await fleet?.close();
  });

  it('gives the app a token for its granted audience that verifies offline to this device, vendor and app, and refuses another audience', async () => {
    const s = await summary();
    expect(s.payrollToken).toBeNull();
    expect(s.payrollRefused).toBe('audience-not-granted(payroll)');
    const roots = fleet.controlPlane.deps.authority.roots();
    const who = await verifyWorkloadToken(s.historianToken, { roots, trustDomain: TD, audience: 'historian' });
    expect(who).toMatchObject({ spiffeId: `spiffe://${TD}/device/cell-7/workload/globex/analytics`, deviceId: 'cell-7', vendor: 'globex', app: 'analytics' });
    await expect(verifyWorkloadToken(s.historianToken, { roots, trustDomain: TD, audience: 'payroll' })).rejects.toMatchObject({
      code: expect.stringMatching(/audience/),
    });
  });

  it("refuses the revoked device's tokens once the relying party holds the list published after the revocation", async () => {
    const token = (await summary()).historianToken as string;
    const roots = fleet.controlPlane.deps.authority.roots();
    const url = new URL('/api/v1/identity/revocations', fleet.controlPlane.url).href;
    const before = await RevocationList.load(await fetchRevocationDocument(url, { ca: fleet.ca }), { roots });
    await expect(verifyWorkloadToken(token, { roots, trustDomain: TD, audience: 'historian', revocations: before })).resolves.toMatchObject({
      deviceId: 'cell-7',
    });

    await fleet.admin.call('POST', '/api/v1/admin/device-revocations', { deviceId: 'cell-7', reason: 'stolen from the line' });
    const after = await RevocationList.load(await fetchRevocationDocument(url, { ca: fleet.ca }), { roots });
    await expect(verifyWorkloadToken(token, { roots, trustDomain: TD, audience: 'historian', revocations: after })).rejects.toMatchObject({
      code: 'token.revoked',
    });
    // Without the list the signature and chain still hold: revocation is the list's job.
    await expect(verifyWorkloadToken(token, { roots, trustDomain: TD, audience: 'historian' })).resolves.toMatchObject({ deviceId: 'cell-7' });
  });
});
