import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install chromium`), driven by playwright-core: no browser download,
 * and none of Chromium's own network traffic (updates, first-run pings) on a closed network.
 */
export const CHROMIUM = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    // --no-sandbox: CI runs tests as root, where Chromium's own sandbox refuses to start.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
