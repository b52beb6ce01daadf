import { seg } from '../api.js';
import { badge, h, relative, replace, table, type Child } from '../dom.js';
import { changeTracker, errorNote, operatorsOnly, poll, show, type Page } from '../page.js';
import type { Fleet, FleetApp, FleetDevice } from '../types.js';

const STATUSES: FleetDevice['status'][] = ['active', 'pending', 'denied', 'revoked'];
/** A certificate this close to its expiry is flagged (devices renew at half their lifetime, docs/agent.md). */
const EXPIRY_WARNING_MS = 7 * 86_400_000;

/** The fleet: devices by state and site, then each device's health, last poll, certificate expiry and apps. */
export const fleetPage: Page = async (ctx) => {
  const title = 'Fleet';
  if (operatorsOnly(ctx, title)) return;
  const body = h('div', {});
  show(ctx, title, body);
  const changed = changeTracker();
  await poll(
    ctx.signal,
    () => 10_000,
    async () => {
      try {
        const { devices } = await ctx.api.get<Fleet>('/admin/fleet', ctx.signal);
        if (changed(devices)) replace(body, bySite(devices), deviceTable(devices));
      } catch (err) {
        replace(body, errorNote(err));
      }
    },
  );
};

export const siteOf = (d: FleetDevice): string => d.labels.site ?? '(no site)';

function bySite(devices: FleetDevice[]): HTMLElement {
  const sites = [...new Set(devices.map(siteOf))].sort();
  const count = (site: string, status: string) => devices.filter((d) => siteOf(d) === site && d.status === status).length;
  return table(
    'Devices by state and site',
    ['Site', ...STATUSES, 'total'],
    sites.map((site) => [site, ...STATUSES.map((s) => count(site, s)), devices.filter((d) => siteOf(d) === site).length]),
    'no device has onboarded yet.',
  );
}

function deviceTable(devices: FleetDevice[]): HTMLElement {
  return table(
    'Devices',
    ['Device', 'State', 'Site', 'Health', 'Last seen', 'Certificate expires', 'Apps'],
    devices.map((d) => [
      h('a', { href: `#/devices/${seg(d.id)}` }, d.id),
      badge(d.status),
      siteOf(d),
      d.health ?? 'not tracked',
      lastSeen(d),
      expiry(d.certificateNotAfter),
      appList(d.apps),
    ]),
  );
}

export function lastSeen(d: FleetDevice): Child {
  return d.lastSeenAt ? h('time', { datetime: d.lastSeenAt, title: d.lastSeenAt }, relative(d.lastSeenAt)) : 'never';
}

export function expiry(notAfter: string | null): Child {
  if (!notAfter) return 'no certificate';
  const soon = new Date(notAfter).getTime() - Date.now() < EXPIRY_WARNING_MS;
  return h('time', { datetime: notAfter, title: notAfter, class: soon ? 'warn' : undefined }, relative(notAfter), soon ? ' (soon)' : '');
}

export function appList(apps: FleetApp[]): Child {
  if (apps.length === 0) return 'none';
  return h('ul', { class: 'plain' }, ...apps.map((a) => h('li', {}, `${a.appId} ${a.version} `, badge(a.state))));
}
