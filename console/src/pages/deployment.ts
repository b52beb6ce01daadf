import { seg } from '../api.js';
import { badge, field, h, replace, table, type Child } from '../dom.js';
import { act, changeTracker, errorNote, operatorsOnly, poll, show, type Page, type PageContext } from '../page.js';
import { usageText } from '../usage.js';
import type { Deployment, DeploymentRolledBack, DeploymentStatus, DeploymentWithPlacements, VersionsListed } from '../types.js';

/**
 * What one poll of the deployment page reads: the deployment with its placements, and its status
 * (which holds each placed device's last report), never the whole fleet.
 */
interface Snapshot {
  deployment: DeploymentWithPlacements;
  status: DeploymentStatus;
}

/**
 * One deployment: its rollout's progress (live while it runs), the controls to start, pause,
 * resume and roll back a rollout, and each placed device's version and last report.
 */
export const deploymentPage: Page = async (ctx) => {
  const id = ctx.params[0] ?? '';
  const title = `Deployment ${id}`;
  if (operatorsOnly(ctx, title)) return;
  const summary = h('div', {});
  // The rollout's progress in words: a polite live region, so each step is heard as it happens.
  const progressText = h('p', { id: 'rollout-progress', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const progressBar = h('progress', { 'aria-labelledby': 'rollout-progress', max: 1, value: 0 });
  const devices = h('div', {});
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const controls = rolloutControls(ctx, id, status);
  show(
    ctx,
    title,
    summary,
    h('section', { 'aria-labelledby': 'progress-heading' }, h('h2', { id: 'progress-heading' }, 'Rollout'), progressBar, progressText),
    controls.element,
    status,
    devices,
  );

  const changed = changeTracker();
  let active = false;
  const refresh = async () => {
    const snapshot = await read(ctx, id);
    if (!changed(snapshot)) return;
    const { deployment, status: s } = snapshot;
    const rollout = deployment.rollout;
    active = rollout.state === 'rolling' || s.counts.pending + s.counts.installing > 0;
    replace(summary, summaryList(deployment));
    const progress = progressOf(snapshot);
    progressBar.max = Math.max(progress.of, 1);
    progressBar.value = progress.done;
    replace(progressText, progress.text);
    controls.update(deployment);
    replace(devices, deviceTable(snapshot));
  };
  controls.onChange(refresh);
  // Every 2 s while devices are moving, every 10 s when all is settled.
  await poll(
    ctx.signal,
    () => (active ? 2000 : 10_000),
    async () => {
      try {
        await refresh();
      } catch (err) {
        replace(summary, errorNote(err));
      }
    },
  );
};

async function read(ctx: PageContext, id: string): Promise<Snapshot> {
  const [deployment, status] = await Promise.all([
    ctx.api.get<DeploymentWithPlacements>(`/admin/deployments/${seg(id)}`, ctx.signal),
    ctx.api.get<DeploymentStatus>(`/admin/deployments/${seg(id)}/status`, ctx.signal),
  ]);
  return { deployment, status };
}

function summaryList(d: Deployment): HTMLElement {
  const r = d.rollout;
  const row = (term: string, value: Child) => [h('dt', {}, term), h('dd', {}, value)];
  return h(
    'dl',
    { class: 'summary' },
    ...row('App', h('a', { href: `#/catalog/${seg(d.appId)}` }, d.appId)),
    ...row('Version', d.version),
    ...row('Rollout', h('span', {}, badge(r.state), r.targetVersion ? ` to ${r.targetVersion}` : '')),
    ...(r.previousVersion ? row('Rolls back to', r.previousVersion) : []),
    ...row('Wave size', String(r.batchSize)),
    ...(r.reason ? row('Paused because', r.reason.message) : []),
    ...row('Created by', d.createdBy),
  );
}

/** The rollout in one sentence, and how far along it is: devices whose last report is the version aimed at, installed. */
function progressOf({ deployment, status }: Snapshot): { text: string; done: number; of: number } {
  const r = deployment.rollout;
  const aim = r.targetVersion ?? deployment.version;
  const of = status.devices;
  const done = Object.values(status.reports).filter((x) => x.version === aim && x.state === 'installed').length;
  const running = `${done} of ${of} device${of === 1 ? '' : 's'} run ${aim}`;
  switch (r.state) {
    case 'rolling':
      return { done, of, text: `Rolling out ${aim} in waves of ${r.batchSize}: ${running}.` };
    case 'paused':
      return { done, of, text: `Rollout to ${aim} paused: ${running}.${r.reason ? ` ${r.reason.message}` : ''}` };
    case 'done':
      return { done, of, text: `Rollout to ${aim} done: ${running}.` };
    case 'rolled-back':
      return { done, of, text: `Rolled back to ${aim}: ${running}.` };
    default:
      return { done, of, text: `No rollout: ${running}.` };
  }
}

function deviceTable({ deployment, status }: Snapshot): HTMLElement {
  const failed = new Map(status.errors.map((e) => [e.deviceId, errorText(e.error)]));
  return table(
    'Devices',
    ['Device', 'Placed version', 'Last report', 'Resource use'],
    deployment.placements.map((p) => {
      const report = status.reports[p.deviceId];
      return [
        h('a', { href: `#/devices/${seg(p.deviceId)}` }, p.deviceId),
        p.version,
        report ? h('span', {}, badge(report.state), ` ${report.version}`, failed.has(p.deviceId) ? ` (${failed.get(p.deviceId)})` : '') : 'none yet',
        usageText(status.usage[p.deviceId] ?? null),
      ];
    }),
    'not placed on any device (no eligible device yet).',
  );
}

/** A device's error in a few words: the answer passes on whatever the device reported (Margo status.error), so it is checked here. */
function errorText(error: unknown): string {
  const { message, code } = (typeof error === 'object' && error !== null ? error : {}) as { message?: unknown; code?: unknown };
  return typeof message === 'string' ? message : typeof code === 'string' ? code : 'failed';
}

/** The rollout's buttons: kept across redraws (only enabled or not), so keyboard focus stays on them. */
function rolloutControls(ctx: PageContext, id: string, status: HTMLElement) {
  let after: () => Promise<void> = async () => {};
  const version = h('select', { id: 'rollout-version', name: 'version', required: true });
  const batch = h('input', { id: 'rollout-batch', name: 'batchSize', type: 'number', min: 1, value: 1, inputmode: 'numeric' });
  const start = h('button', { type: 'submit', class: 'primary' }, 'Start rollout');
  const pause = h('button', { type: 'button' }, 'Pause rollout');
  const resume = h('button', { type: 'button' }, 'Resume rollout');
  const rollback = h('button', { type: 'button', class: 'danger' }, 'Roll back');
  const base = `/admin/deployments/${seg(id)}`;

  const form = h(
    'form',
    { class: 'inline-form', 'aria-labelledby': 'rollout-form-heading' },
    h('h2', { id: 'rollout-form-heading' }, 'Roll out a version'),
    field('Version', version),
    field('Devices per wave', batch),
    start,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(
      start,
      status,
      async () => {
        await ctx.api.post(`${base}/rollouts`, { version: version.value, batchSize: Number(batch.value) || 1 });
        return `Rollout to ${version.value} started.`;
      },
      () => after(),
    );
  });
  pause.addEventListener(
    'click',
    () =>
      void act(
        pause,
        status,
        async () => (await ctx.api.post(`${base}/rollout/pause`), 'Rollout paused.'),
        () => after(),
      ),
  );
  resume.addEventListener(
    'click',
    () =>
      void act(
        resume,
        status,
        async () => (await ctx.api.post(`${base}/rollout/resume`), 'Rollout resumed.'),
        () => after(),
      ),
  );
  rollback.addEventListener(
    'click',
    () =>
      void act(
        rollback,
        status,
        async () => `Rolled back to ${(await ctx.api.post<DeploymentRolledBack>(`${base}/rollbacks`)).version}.`,
        () => after(),
      ),
  );

  let listedFor: string | undefined;
  return {
    element: h('section', { 'aria-label': 'Rollout controls', class: 'controls' }, form, h('div', { class: 'actions' }, pause, resume, rollback)),
    onChange(next: () => Promise<void>) {
      after = next;
    },
    /** Enables what the rollout's state allows (docs/scheduling.md), and lists the versions it may roll out to. */
    update(d: Deployment) {
      const state = d.rollout.state;
      start.disabled = state === 'rolling' || state === 'paused';
      pause.disabled = state !== 'rolling';
      resume.disabled = state !== 'paused';
      rollback.disabled = !(state === 'rolling' || state === 'paused' || state === 'done');
      // The versions to offer: the app's, but the one it runs now; listed again when that changes.
      if (listedFor === `${d.appId}@${d.version}`) return;
      listedFor = `${d.appId}@${d.version}`;
      void ctx.api
        .get<VersionsListed>(`/catalog/apps/${seg(d.appId)}/versions`, ctx.signal)
        .then(({ versions }) => replace(version, ...versions.filter((v) => v.version !== d.version).map((v) => h('option', { value: v.version }, v.version))))
        .catch((err: unknown) => replace(status, errorNote(err)));
    },
  };
}
