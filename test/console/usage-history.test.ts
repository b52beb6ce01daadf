import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDeviceStatus } from '../../orchestrator/deployments/status.js';
import { addDevice } from '../deployments/fixtures.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';
import { launchChromium } from './browser.js';

/** Bound on each wait in the browser: a step that never shows fails the test instead of hanging it. */
const STEP_MS = 30_000;

/**
 * The device page's resource use over time (docs/console.md): a device that reported before the
 * page was opened shows those reports' figures from the control plane's usage history, and the
 * page goes on adding the reports it sees. Simulated reports, as the device channel records them;
 * console.test.ts drives real agents.
 */
describe("the console's device page draws the usage history", () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  const report = (cpuBusyMs: number, memoryBytes: number) =>
    h.cp.deps.store.transaction((tx) =>
      recordDeviceStatus(
        tx,
        {
          deploymentId: 'meter-line',
          deviceId: 'press-1',
          state: 'installed',
          error: null,
          components: [],
          adoptedManifestVersion: null,
          usage: { memory: { bytes: memoryBytes }, cpu: { busyMs: cpuBusyMs } },
        },
        h.cp.deps.desiredStateChanged ?? (async () => {}),
      ),
    );

  beforeAll(async () => {
    // The console as its sources are now, not whatever dist/ last held.
    execFileSync(process.execPath, [resolve(import.meta.dirname, '../../scripts/bundle-console.mjs')], { stdio: 'inherit', timeout: 60_000 });
    h = await startHarness();
    expect((await h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') })).status).toBe(201);
    expect((await h.admin('POST', '/api/v1/catalog/apps', { id: 'meter', vendor: 'acme' })).status).toBe(201);
    await insertVerifiedVersion(h.cp.deps.store, {
      appId: 'meter',
      version: '1.0.0',
      digest: `sha256:${'1'.repeat(64)}`,
      rootsFingerprint: h.cp.deps.artifacts!.roots.fingerprint,
    });
    await addDevice(h.cp.deps.store, 'press-1');
    const deployed = await h.admin('POST', '/api/v1/admin/deployments', {
      id: 'meter-line',
      app: 'meter',
      version: '1.0.0',
      grants: {},
      deviceIds: ['press-1'],
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    // Three reports a few minutes apart, all before the page is opened: three samples.
    for (const n of [1, 2, 3]) {
      await h.cp.deps.store.query(`UPDATE device_usage_samples SET at = at - interval '5 minutes'`);
      expect(await report(n * 100, n * 1024 * 1024)).toMatch(/created|updated/);
    }
    browser = await launchChromium();
    page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  const line = (name: RegExp) => page.getByRole('img', { name });

  it('shows points from before the page was opened, then adds the reports it sees', async () => {
    await page.goto(`${h.cp.url}/console/`);
    await page.getByLabel('Token').fill(h.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('test admin (admin)').waitFor();
    await page.goto(`${h.cp.url}/console/#/devices/press-1`);
    await page.getByRole('table', { name: 'Apps' }).waitFor();

    // 100 ms and 1 MiB were only ever reported before the page loaded: they come from the history.
    const cpu = line(/^CPU busy time of meter \(meter-line\)/);
    await expect.poll(() => cpu.getAttribute('aria-label'), { timeout: STEP_MS }).toMatch(/: from 100 ms to 300 ms over 3 samples, /);
    expect(await line(/^Memory of meter \(meter-line\)/).getAttribute('aria-label')).toMatch(/: from 1\.0 MiB to 3\.0 MiB over 3 samples, /);
    const table = await page.getByRole('table', { name: 'Apps' }).textContent();
    expect(table).toContain('Memory over time');

    // A report while the page is open (inside the sampling interval, so the history takes none) is drawn live.
    await report(400, 4 * 1024 * 1024);
    await expect.poll(() => cpu.getAttribute('aria-label'), { timeout: STEP_MS }).toMatch(/: from 100 ms to 400 ms over 4 samples, /);
  });

  it('asks nothing of any other origin and logs no errors', () => {
    const origin = new URL(h.cp.url).origin;
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
