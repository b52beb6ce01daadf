import { seg } from '../api.js';
import { badge, fieldList, h, replace, table, time } from '../dom.js';
import { changeTracker, errorNote, operatorsOnly, poll, show, type Page } from '../page.js';
import { sparkline } from '../sparkline.js';
import { formatBytes, usageText } from '../usage.js';
import { appendLive, loadSeries, type UsageSeries } from '../usage-series.js';
import type { AuditPage, Fleet } from '../types.js';
import { expiry, lastSeen, siteOf } from './fleet.js';

/**
 * One device: its state, its apps with their resource use over time, and its security events.
 * Each app's lines start from the usage history the control plane kept (one sample a minute at
 * most) and go on with the reports the page sees while open (docs/console.md).
 */
export const devicePage: Page = async (ctx) => {
  const id = ctx.params[0] ?? '';
  const title = `Device ${id}`;
  if (operatorsOnly(ctx, title)) return;
  const body = h('div', {});
  show(ctx, title, body);
  const series = new Map<string, UsageSeries>();
  const changed = changeTracker();
  await poll(
    ctx.signal,
    () => 5000,
    async () => {
      try {
        const [{ devices }, audit] = await Promise.all([
          ctx.api.get<Fleet>('/admin/fleet', ctx.signal),
          ctx.api.get<AuditPage>(`/admin/audit?deviceId=${seg(id)}&limit=50`, ctx.signal),
        ]);
        const device = devices.find((d) => d.id === id);
        if (!device) return replace(body, h('p', { class: 'notice' }, `No device '${id}' is known to this control plane.`));
        // An app first seen (at load, or deployed since) starts from its kept history.
        const unseen = device.apps.map((a) => a.deploymentId).filter((d) => !series.has(d));
        if (unseen.length) for (const [d, s] of await loadSeries(ctx.api, id, unseen, ctx.signal)) series.set(d, s);
        for (const app of device.apps) appendLive(series, app);
        if (!changed([device, audit.events, [...series]])) return;
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
            ['Deployment', 'App', 'Version', 'State', 'Resource use (last report)', 'Memory over time', 'CPU busy over time'],
            device.apps.map((a) => [
              h('a', { href: `#/deployments/${seg(a.deploymentId)}` }, a.deploymentId),
              a.appId,
              a.version,
              badge(a.state),
              usageText(a.usage),
              sparkline(series.get(a.deploymentId)?.memory ?? [], `Memory of ${a.appId} (${a.deploymentId})`, formatBytes),
              sparkline(series.get(a.deploymentId)?.cpu ?? [], `CPU busy time of ${a.appId} (${a.deploymentId})`, (n) => `${Math.round(n)} ms`),
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
