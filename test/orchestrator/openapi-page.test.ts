import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlPlaneApp, coreRoutes, type ControlPlaneDeps } from '../../orchestrator/app.js';

/** Debian's Chromium: no browser download (issue 15). Skipped where it is not installed. */
const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('the API reference page in a browser', () => {
  let server: ServerType;
  let origin: string;
  let browser: Browser;

  beforeAll(async () => {
    // Only the public openapi routes are requested: the app's collaborators are never reached.
    const app = buildControlPlaneApp({ logger: console } as unknown as ControlPlaneDeps, coreRoutes);
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('renders the operations by tag from openapi.json, within its CSP and its own origin', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const complaints: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && complaints.push(m.text()));
    page.on('pageerror', (e) => complaints.push(e.message));
    await page.goto(`${origin}/api/v1/docs`);
    const tokens = page.locator('#postAdminTokens');
    await tokens.waitFor();
    expect(await tokens.locator('summary').first().textContent()).toContain('POST /api/v1/admin/tokens Create an operator or vendor token');
    expect(await page.locator('section h2').allTextContents()).toEqual(expect.arrayContaining(['Admin', 'Catalog', 'Device API (Margo)']));
    await tokens.locator('summary').first().click();
    expect(await tokens.textContent()).toContain('Operator bearer token with role `admin`.');
    expect(complaints).toEqual([]);
    expect(requests.every((u) => u.startsWith(origin))).toBe(true);
    await page.close();
  });
});
