import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoApps, defaultDemoCache, type DemoApp } from '../../cli/demo/apps.js';
import { silentLogger } from '../../common/logger.js';
import { HttpGateway } from '../../runtime/gateway/gateway.js';
import { serveSupervisedApp } from '../../runtime/gateway/supervised.js';
import { workloadIdentityHandlers } from '../../runtime/identity/token-handlers.js';
import { Runtime } from '../../runtime/runtime.js';
import type { KeyedCertificate } from '../../trust/authority.js';
import { testFleetDevice } from '../support/device-signer.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { suiteTempDir } from '../support/tmp.js';
import { DEMO_GRANTS } from '../../cli/demo/grants.js';
import { gatewayGet as get } from '../../cli/demo/wait.js';

const TD = 'demo.test';

// The two apps `npm start` deploys, on one device with the grants the demo gives them: the
// demo's story (readings cross from one vendor's app to another's through a topic both were
// granted; a token for the granted audience only) must hold, or the demo would print nonsense.
describe('the demo apps on one device', () => {
  let root: KeyedCertificate;
  let runtime: Runtime;
  let gateway: HttpGateway;
  let port: number;

  beforeAll(async () => {
    const apps: Record<DemoApp, Uint8Array> = await buildDemoApps(defaultDemoCache());
    let signer;
    ({ root, signer } = await testFleetDevice(TD, 'line-1', 3_600_000));
    runtime = new Runtime({ dataDir: suiteTempDir('demo-apps'), logger: silentLogger, hostHandlers: workloadIdentityHandlers(() => signer) });
    gateway = new HttpGateway();
    port = await gateway.listen();
    for (const app of ['analytics', 'sensor'] as const) {
      const supervisor = await runtime.startApp(apps[app], { vendor: DEMO_GRANTS[app].vendor, app, grants: DEMO_GRANTS[app].grants });
      serveSupervisedApp(gateway, supervisor);
    }
  }, 180_000);
  afterAll(async () => {
    await gateway?.close();
    await runtime?.close();
  });

  it('passes sensor readings to analytics, which gets a token for its granted audience only', async () => {
    expect(await get(port, '/sensor/')).toMatchObject({ status: 200, body: { status: 'ready', taken: 0 } });
    const first = await get(port, '/analytics/summary');
    expect(first).toMatchObject({ status: 200, body: { readings: 0 } });
    const readings: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const r = await get(port, '/sensor/reading');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ sensor: 'acme/sensor', seq: i, published: 'ok' });
      expect(typeof r.body.celsius).toBe('number');
      readings.push(r.body.celsius);
    }
    // The set point comes from the deployment's config grant.
    expect(Math.abs(readings[0]! - Number(DEMO_GRANTS.sensor.grants.config.values['set-point']))).toBeLessThanOrEqual(0.5);
    const summary = await get(port, '/analytics/summary');
    expect(summary.body).toMatchObject({
      readings: 3,
      min: Math.min(...readings),
      max: Math.max(...readings),
      historianRefused: null,
      payrollToken: null,
      payrollRefused: 'audience-not-granted(payroll)',
    });
    const who = await verifyWorkloadToken(summary.body.historianToken, { roots: [root.certificate], trustDomain: TD, audience: 'historian' });
    expect(who).toMatchObject({ deviceId: 'line-1', vendor: 'globex', app: 'analytics' });
  });
});
