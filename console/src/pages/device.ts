import { seg } from '../api.js';
import { badge, fieldList, h, replace, table, time } from '../dom.js';
import { changeTracker, errorNote, operatorsOnly, poll, show, type Page } from '../page.js';
import { sparkline } from '../sparkline.js';
import { usageText } from '../usage.js';
import type { AuditPage, FleetDevice } from '../types.js';
import { expiry, lastSeen, siteOf } from './fleet.js';

/** How many usage samples per app the page keeps while open. */
const SAMPLES = 60;

/**
 * One device: its state, its apps with their resource use, and its security events. The control
 * plane keeps only each app's last usage report, so "over time" is what this page has polled
 * since it was opened (docs/console.md).
 */
export const devicePage: Page = async (ctx) => {
  const id = ctx.params[0] ?? '';
  const title = `Device ${id}`;
  if (operatorsOnly(ctx, title)) return;
  const body = h('div', {});
  show(ctx, title, body);
  const busy = new Map<string, number[]>();
  const changed = changeTracker();
  await poll(
    ctx.signal,
    () => 5000,
    async () => {
      try {
        const [{ devices }, audit] = await Promise.all([
          ctx.api.get<{ devices: FleetDevice[] }>('/admin/fleet', ctx.signal),
          ctx.api.get<AuditPage>(`/admin/audit?deviceId=${seg(id)}&limit=50`, ctx.signal),
        ]);
        const device = devices.find((d) => d.id === id);
        if (!device) return replace(body, h('p', { class: 'notice' }, `No device '${id}' is known to this control plane.`));
        for (const app of device.apps) {
          const cpu = (app.usage?.cpu as { busyMs?: number } | undefined)?.busyMs;
          if (typeof cpu === 'number') busy.set(app.deploymentId, [...(busy.get(app.deploymentId) ?? []), cpu].slice(-SAMPLES));
        }
        if (!changed([device, audit.events, [...busy]])) return;
        replace(
          body,
          h(
            'dl',
            { class: 'summary' },
            h('dt', {}, 'State'),
            h('dd', {}, badge(device.status)),
            h('dt', {}, 'Site'),
            h('dd', {}, siteOf(device)),
            h('dt', {}, 'Health'),
            h('dd', {}, device.health ?? 'not tracked'),
            h('dt', {}, 'Last seen'),
            h('dd', {}, lastSeen(device)),
            h('dt', {}, 'Certificate expires'),
            h('dd', {}, expiry(device.certificateNotAfter)),
            h('dt', {}, 'Onboarded'),
            h('dd', {}, time(device.createdAt)),
          ),
          table(
            'Apps',
            ['Deployment', 'App', 'Version', 'State', 'Resource use (last report)', 'CPU busy since this page opened'],
            device.apps.map((a) => [
              h('a', { href: `#/deployments/${seg(a.deploymentId)}` }, a.deploymentId),
              a.appId,
              a.version,
              badge(a.state),
              usageText(a.usage),
              sparkline(busy.get(a.deploymentId) ?? [], `CPU busy time of ${a.appId}, ms`),
            ]),
            'no app reported yet.',
          ),
          table(
            'Security events',
            ['When', 'Event', 'Actor', 'Details'],
            audit.events.map((e) => [time(e.at), e.event, e.actor ?? '—', fieldList(e.fields)]),
            'none recorded for this device.',
          ),
        );
      } catch (err) {
        replace(body, errorNote(err));
      }
    },
  );
};
