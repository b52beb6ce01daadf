import { seg } from '../api.js';
import { badge, field, h, replace, table, time } from '../dom.js';
import { changeTracker, errorNote, operatorsOnly, poll, show, type Page, type PageContext } from '../page.js';
import type { AppsListed, DeploymentCreated, DeploymentsListed, VersionsListed } from '../types.js';

/** Every deployment with its rollout's state, and a form to create one. */
export const deploymentsPage: Page = async (ctx) => {
  const title = 'Deployments';
  if (operatorsOnly(ctx, title)) return;
  const list = h('div', {});
  const form = h('div', {});
  show(ctx, title, list, form);
  newDeploymentForm(ctx).then(
    (filled) => replace(form, filled),
    (err: unknown) => replace(form, errorNote(err)),
  );
  const changed = changeTracker();
  await poll(
    ctx.signal,
    () => 5000,
    async () => {
      try {
        const { deployments } = await ctx.api.get<DeploymentsListed>('/admin/deployments', ctx.signal);
        if (!changed(deployments)) return;
        replace(
          list,
          table(
            'Deployments',
            ['Deployment', 'App', 'Version', 'Rollout', 'Created'],
            deployments.map((d) => [
              h('a', { href: `#/deployments/${seg(d.id)}` }, d.id),
              d.appId,
              d.version,
              h('span', {}, badge(d.rollout.state), d.rollout.targetVersion ? ` to ${d.rollout.targetVersion}` : ''),
              time(d.createdAt),
            ]),
            'none yet; create one below.',
          ),
        );
      } catch (err) {
        replace(list, errorNote(err));
      }
    },
  );
};

/** The form: app and version from the catalog, optional devices (node-lock) and the grants as JSON. */
async function newDeploymentForm(ctx: PageContext): Promise<HTMLElement> {
  const { apps } = await ctx.api.get<AppsListed>('/catalog/apps', ctx.signal);
  const id = h('input', { id: 'new-deployment-id', name: 'id', autocomplete: 'off' });
  const app = h('select', { id: 'new-deployment-app', name: 'app', required: true }, ...apps.map((a) => h('option', { value: a.id }, `${a.id} (${a.vendor})`)));
  const version = h('select', { id: 'new-deployment-version', name: 'version', required: true });
  const devices = h('input', { id: 'new-deployment-devices', name: 'devices', autocomplete: 'off' });
  const grants = h('textarea', { id: 'new-deployment-grants', name: 'grants', rows: 3, spellcheck: 'false' }, '{}');
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Deploy');

  const loadVersions = async () => {
    if (!app.value) return replace(version);
    const { versions } = await ctx.api.get<VersionsListed>(`/catalog/apps/${seg(app.value)}/versions`, ctx.signal);
    replace(version, ...versions.map((v) => h('option', { value: v.version }, v.version)));
  };
  app.addEventListener('change', () => void loadVersions().catch((err) => replace(status, errorNote(err))));
  await loadVersions();

  const form = h(
    'form',
    { 'aria-labelledby': 'new-deployment-heading' },
    h('h2', { id: 'new-deployment-heading' }, 'New deployment'),
    field('Deployment id', id, 'Optional: lower-case letters, digits, . and -; one is made up if empty.'),
    field('App', app),
    field('Version', version),
    field('Devices', devices, 'Optional: device ids separated by commas, to pin it to them; empty places it on every eligible device.'),
    field('Grants (JSON)', grants, 'What the app may use, e.g. {"log": {}} (docs/isolation.md); its imports must be covered.'),
    submit,
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      submit.disabled = true;
      try {
        const body: Record<string, unknown> = { app: app.value, version: version.value, grants: JSON.parse(grants.value || '{}') as unknown };
        if (id.value.trim()) body.id = id.value.trim();
        const pinned = devices.value
          .split(',')
          .map((d) => d.trim())
          .filter(Boolean);
        if (pinned.length) body.deviceIds = pinned;
        const created = await ctx.api.post<DeploymentCreated>('/admin/deployments', body);
        location.hash = `#/deployments/${seg(created.id)}`;
      } catch (err) {
        replace(status, errorNote(err instanceof SyntaxError ? new Error(`Grants: not valid JSON (${err.message})`) : err));
      } finally {
        submit.disabled = false;
      }
    })();
  });
  return form;
}
