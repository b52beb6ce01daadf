import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import { fixture, startInProcessAgent, startWorld, variant, type InProcessAgent, type World } from '../agent/support.js';
import { launchChromium } from './browser.js';

/** Bound on each wait in the browser: a step that never shows fails the test instead of hanging it. */
const STEP_MS = 30_000;
/** Bound on a wait that includes devices pulling, installing and passing their health window. */
const DEVICES_MS = 90_000;

/**
 * The web console end to end (docs/console.md): Debian's Chromium against a real control plane,
 * registry and device agents. An operator signs in, approves two pending devices and denies a third, deploys an app,
 * rolls out a new version (pausing and resuming it), watches it complete, rolls it back, and reads
 * the fleet, a device, the catalog and the audit log; a vendor sees only its catalog.
 * BERTH_CONSOLE_SCREENSHOT=docs/console.png writes the README's screenshot.
 */
describe('the web console in a real browser', () => {
  let world: World;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const agents: Promise<InProcessAgent>[] = [];
  /** Every URL the page asked for, and every error it logged (a CSP violation is one). */
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // The console as its sources are now (what npm run build writes), not whatever dist/ last held.
    execFileSync(process.execPath, [resolve(import.meta.dirname, '../../scripts/bundle-console.mjs')], { stdio: 'inherit', timeout: 60_000 });
    world = await startWorld({ requireApproval: true, pendingRetrySeconds: 1 });
    await world.publish('sensor', '1.0.0', variant(fixture('hello'), 'console-1.0.0'));
    await world.publish('sensor', '1.1.0', variant(fixture('hello'), 'console-1.1.0'));
    // Three devices that wait for approval (one will be denied); a 3 s health window makes each wave
    // of the rollout last a while.
    for (const [name, site] of [
      ['line-1', 'plant-north'],
      ['line-2', 'plant-south'],
      ['stray-9', 'plant-north'],
    ] as const) {
      const token = await world.h.enrollmentToken({ deviceId: name, labels: { site } });
      const starting = startInProcessAgent(world, name, {
        onboarding: { credential: { kind: 'token', token }, deviceId: name, maxWaitSeconds: 120 },
        lastKnownGood: { windowSeconds: 3, maxRestarts: 3 },
      });
      // Handled now (the denied one rejects while the test waits on the page); awaited by the test.
      starting.catch(() => undefined);
      agents.push(starting);
    }
    browser = await launchChromium();
    // A landscape tablet. The browser does not know the fleet CA that issued the control plane's
    // certificate (an operator imports ca.pem; docs/console.md), so this test does not check it.
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1024, height: 768 } });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const starting of agents) await (await starting.catch(() => undefined))?.agent.stop().catch(() => undefined);
    await world?.stop();
  });

  const progress = () => page.locator('#rollout-progress');

  it('signs in, approves two pending devices and denies one, deploys, rolls out, pauses, resumes, completes and rolls back', async () => {
    const answer = await page.goto(`${world.h.cp.url}/console/`);
    expect(answer?.headers()['content-security-policy']).toContain("script-src 'self'");

    // Sign in with the keyboard alone: the token field has focus, Enter submits.
    await expect.poll(() => page.evaluate('document.activeElement?.id'), { timeout: STEP_MS }).toBe('token');
    await page.keyboard.type(world.h.adminToken);
    await page.keyboard.press('Enter');
    await page.getByText('test admin (admin)').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
    expect(await context.cookies()).toEqual([]);

    // Both devices wait for approval; each is approved from the page.
    await page.getByRole('link', { name: 'Onboarding' }).click();
    for (const name of ['line-1', 'line-2']) {
      const approve = page.getByRole('button', { name: `Approve ${name}` });
      await approve.waitFor();
      await approve.press('Enter');
      await page.getByText(`Approved ${name}.`).waitFor();
      // Keyboard focus goes on to the next request rather than back to the top of the page.
      await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("aria-label")'), { timeout: STEP_MS }).toMatch(/^Approve /);
    }
    // The third is denied: its agent stops onboarding.
    const deny = page.getByRole('button', { name: 'Deny stray-9' });
    await deny.click();
    await page.getByText('Denied stray-9.').waitFor();
    await page.getByText('Waiting for approval: no device is waiting.').waitFor();
    await expect(agents[2]).rejects.toMatchObject({ code: 'onboarding.denied' });
    const running: RunningAgent[] = [];
    for (const starting of agents.slice(0, 2)) running.push((await starting).agent);

    // The fleet shows them active, by site.
    await page.getByRole('link', { name: 'Fleet' }).click();
    const devices = page.getByRole('table', { name: 'Devices', exact: true });
    await expect.poll(() => devices.getByRole('row').count(), { timeout: STEP_MS }).toBe(4);
    await expect.poll(() => devices.textContent(), { timeout: STEP_MS }).toMatch(/stray-9denied/);
    await expect.poll(() => devices.textContent(), { timeout: STEP_MS }).toMatch(/line-1active.*plant-north/);
    await page.getByRole('table', { name: 'Devices by state and site' }).getByText('plant-south').waitFor();

    // Deploy sensor 1.0.0 on both.
    await page.getByRole('link', { name: 'Deployments' }).click();
    await page.getByLabel('Deployment id').fill('sensor-console');
    await page.getByLabel('App', { exact: true }).selectOption('sensor');
    await page.getByLabel('Version', { exact: true }).selectOption('1.0.0');
    await page.getByLabel('Grants (JSON)').fill('{"log": {}}');
    await page.getByRole('button', { name: 'Deploy' }).click();
    await page.waitForURL(/#\/deployments\/sensor-console$/);
    const deploymentPageFrom = requests.length;
    await expect.poll(() => progress().textContent(), { timeout: DEVICES_MS }).toBe('No rollout: 2 of 2 devices run 1.0.0.');

    // Roll out 1.1.0 one device at a time; hold it, go on, and watch it complete.
    await page.getByLabel('Version', { exact: true }).selectOption('1.1.0');
    await page.getByLabel('Devices per wave').fill('1');
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.getByText('Rollout to 1.1.0 started.').waitFor();
    await expect.poll(() => progress().textContent(), { timeout: STEP_MS }).toMatch(/^Rolling out 1\.1\.0 in waves of 1: [01] of 2 devices run 1\.1\.0\.$/);
    await page.getByRole('button', { name: 'Pause rollout' }).click();
    await page.getByText('Rollout paused.').waitFor();
    await expect.poll(() => progress().textContent(), { timeout: STEP_MS }).toMatch(/^Rollout to 1\.1\.0 paused: [012] of 2 devices run 1\.1\.0\. .*paused/);
    expect(await page.getByRole('button', { name: 'Resume rollout' }).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Resume rollout' }).click();
    await page.getByText('Rollout resumed.').waitFor();
    await expect.poll(() => progress().textContent(), { timeout: DEVICES_MS }).toBe('Rollout to 1.1.0 done: 2 of 2 devices run 1.1.0.');
    const bar = page.locator('progress');
    expect([await bar.getAttribute('value'), await bar.getAttribute('max')]).toEqual(['2', '2']);
    await screenshot(page);

    // Roll it back: both devices return to 1.0.0 at once.
    await page.getByRole('button', { name: 'Roll back' }).click();
    await page.getByText('Rolled back to 1.0.0.').waitFor();
    await expect.poll(() => progress().textContent(), { timeout: DEVICES_MS }).toBe('Rolled back to 1.0.0: 2 of 2 devices run 1.0.0.');
    for (const agent of running) expect(agent.reconciler.apps().find((a) => a.deploymentId === 'sensor-console')?.plan.version).toBe('1.0.0');
    // Each placed device's last report, from the deployment's status: the page never reads the whole fleet.
    const placed = page.getByRole('table', { name: 'Devices', exact: true });
    await expect.poll(() => placed.textContent(), { timeout: DEVICES_MS }).toMatch(/line-1.*installed 1\.0\.0.*line-2.*installed 1\.0\.0/);
    expect(requests.slice(deploymentPageFrom).filter((url) => url.includes('/api/v1/admin/fleet'))).toEqual([]);

    // Each step is in the audit log.
    await page.getByRole('link', { name: 'Audit log' }).click();
    const log = page.getByRole('table', { name: 'Events, newest first' });
    for (const event of ['onboarding.approved', 'deployment.created', 'rollout.started', 'rollout.paused', 'rollout.resumed', 'deployment.rolled_back'])
      await log.getByRole('cell', { name: event, exact: true }).first().waitFor();
  }, 300_000);

  it('shows a device with its app and its security events, and the catalog with what admission verified', async () => {
    await page.goto(`${world.h.cp.url}/console/#/devices/line-1`);
    const apps = page.getByRole('table', { name: 'Apps' });
    await expect.poll(() => apps.textContent(), { timeout: STEP_MS }).toContain('sensor-console');
    await page.getByRole('table', { name: 'Security events' }).getByText('onboarding.approved').waitFor();

    await page.getByRole('link', { name: 'Catalog' }).click();
    const versions = page.getByRole('table', { name: 'Versions of sensor' });
    await versions.getByRole('cell', { name: '1.1.0', exact: true }).waitFor();
    expect(await versions.textContent()).toMatch(/verified: key /);
  });

  it('fits a portrait tablet without scrolling sideways', async () => {
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.getByRole('table', { name: 'Devices', exact: true }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(768);
  });

  it('asks nothing of any other origin and logs no errors (no CSP violation)', () => {
    const origin = new URL(world.h.cp.url).origin;
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('shows a vendor its catalog, and says the operator pages are for operators', async () => {
    const created = await world.h.admin('POST', '/api/v1/admin/tokens', { name: 'acme ci', role: 'vendor:acme' });
    expect(created.status).toBe(201);
    const vendor = await context.browser()!.newContext({ ignoreHTTPSErrors: true });
    try {
      const tab = await vendor.newPage();
      tab.setDefaultTimeout(STEP_MS);
      await tab.goto(`${world.h.cp.url}/console/`);
      await tab.getByLabel('Token').fill(created.body.token as string);
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.getByRole('heading', { name: 'Catalog' }).waitFor();
      await tab.getByRole('link', { name: 'Fleet' }).click();
      await tab.getByText('This page is for fleet operators. You are signed in as vendor acme').waitFor();
    } finally {
      await vendor.close();
    }
  });
});

/** Writes the README's picture of the console when BERTH_CONSOLE_SCREENSHOT names a file (relative to the repository). */
async function screenshot(page: Page): Promise<void> {
  const target = process.env.BERTH_CONSOLE_SCREENSHOT;
  if (!target) return;
  const file = resolve(import.meta.dirname, '../..', target);
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
}
