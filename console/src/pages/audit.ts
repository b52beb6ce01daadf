import { field, fieldList, h, replace, table, time } from '../dom.js';
import { errorNote, operatorsOnly, poll, show, type Page } from '../page.js';
import type { AuditEvent, AuditPage } from '../types.js';

/**
 * The audit log (docs/audit.md), newest first, filtered by event name or prefix and by device;
 * new events are followed with `after` while the page is open, older ones paged with `before`.
 */
export const auditPage: Page = async (ctx) => {
  const title = 'Audit log';
  if (operatorsOnly(ctx, title)) return;
  const event = h('input', { id: 'audit-event', name: 'event', autocomplete: 'off', placeholder: 'rollout.' });
  const device = h('input', { id: 'audit-device', name: 'deviceId', autocomplete: 'off' });
  const older = h('button', { type: 'button', hidden: true }, 'Older events');
  const list = h('div', {});
  const form = h(
    'form',
    { class: 'inline-form', role: 'search', 'aria-label': 'Filter the audit log' },
    field('Event or prefix', event, 'e.g. onboarding.approved, or rollout. for every rollout event'),
    field('Device', device),
    h('button', { type: 'submit' }, 'Filter'),
  );
  show(ctx, title, form, list, older);

  let events: AuditEvent[] = [];
  let next: number | undefined;
  const query = (extra: Record<string, string>) => {
    const params = new URLSearchParams({ limit: '100', ...extra });
    if (event.value.trim()) params.set('event', event.value.trim());
    if (device.value.trim()) params.set('deviceId', device.value.trim());
    return `/admin/audit?${params}`;
  };
  const draw = () => {
    older.hidden = next === undefined;
    replace(
      list,
      table(
        'Events, newest first',
        ['When', 'Event', 'Actor', 'Device', 'Details'],
        events.map((e) => [time(e.at), e.event, e.actor ?? '—', e.deviceId ?? '—', fieldList(e.fields)]),
        'no event matches.',
      ),
    );
  };
  const load = async () => {
    const page = await ctx.api.get<AuditPage>(query({}), ctx.signal);
    events = page.events;
    next = page.next;
    draw();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load().catch((err) => replace(list, errorNote(err)));
  });
  older.addEventListener('click', () => {
    if (next === undefined) return;
    void ctx.api
      .get<AuditPage>(query({ before: String(next) }), ctx.signal)
      .then((page) => {
        events = [...events, ...page.events];
        next = page.next;
        draw();
      })
      .catch((err) => replace(list, errorNote(err)));
  });

  try {
    await load();
  } catch (err) {
    replace(list, errorNote(err));
  }
  // Following: what came after the newest event shown, oldest first, put on top.
  await poll(
    ctx.signal,
    () => 5000,
    async () => {
      const newest = events[0]?.id ?? 0;
      const page = await ctx.api.get<AuditPage>(query({ after: String(newest) }), ctx.signal);
      if (page.events.length === 0) return;
      events = [...[...page.events].reverse(), ...events];
      draw();
    },
  );
};
