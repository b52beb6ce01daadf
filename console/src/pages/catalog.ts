import { seg } from '../api.js';
import { clipped, h, table, time, type Child } from '../dom.js';
import { errorNote, show, type Page } from '../page.js';
import { formatBytes } from '../usage.js';
import type { App, AppsListed, AppVersion, Vendor, VersionsListed } from '../types.js';

/** A list member of a trust policy (docs/admission.md); the answer types the policy as any JSON, so it is checked here. */
const listIn = (policy: Vendor['trustPolicy'], key: string): unknown[] => {
  const value = policy[key];
  return Array.isArray(value) ? (value as unknown[]) : [];
};

/**
 * The catalog as the token may read it (a vendor token: its own apps only): vendors with their
 * trust policies, apps, and each version with what admission verified (signature, provenance, SBOM).
 * `#/catalog/<app>` shows one app.
 */
export const catalogPage: Page = async (ctx) => {
  const only = ctx.params[0];
  try {
    const { apps } = await ctx.api.get<AppsListed>('/catalog/apps', ctx.signal);
    const shown = only ? apps.filter((a) => a.id === only) : apps;
    const vendorNames = [...new Set(shown.map((a) => a.vendor))].sort();
    const [vendors, versions] = await Promise.all([
      Promise.all(vendorNames.map((name) => ctx.api.get<Vendor>(`/catalog/vendors/${seg(name)}`, ctx.signal))),
      Promise.all(shown.map((a) => ctx.api.get<VersionsListed>(`/catalog/apps/${seg(a.id)}/versions`, ctx.signal))),
    ]);
    show(
      ctx,
      only ? `App ${only}` : 'Catalog',
      only ? h('p', {}, h('a', { href: '#/catalog' }, 'The whole catalog')) : null,
      table(
        'Vendors',
        ['Vendor', 'Signing keys', 'Keyless identities', 'Repositories', 'Registered'],
        vendors.map((v) => [
          v.name,
          listIn(v.trustPolicy, 'publicKeys').length,
          listIn(v.trustPolicy, 'identities').length,
          listIn(v.trustPolicy, 'repositories').map(String).join(', ') || '—',
          time(v.createdAt),
        ]),
        'none with apps yet.',
      ),
      ...shown.map((a, i) => appSection(a, versions[i]?.versions ?? [])),
      shown.length === 0 ? h('p', { class: 'empty' }, only ? `No app '${only}' that this token may read.` : 'No apps yet.') : null,
    );
  } catch (err) {
    show(ctx, 'Catalog', errorNote(err));
  }
};

function appSection(app: App, versions: AppVersion[]): HTMLElement {
  const headingId = `app-${app.id}`;
  return h(
    'section',
    { 'aria-labelledby': headingId },
    h('h2', { id: headingId }, h('a', { href: `#/catalog/${seg(app.id)}` }, app.id), ` by ${app.vendor}`),
    app.description ? h('p', {}, app.description) : null,
    table(
      `Versions of ${app.id}`,
      ['Version', 'Signature', 'Provenance', 'SBOM', 'Digest', 'Size', 'Imports', 'Admitted'],
      versions.map((v) => [
        v.version,
        v.verification ? h('span', {}, 'verified: ', clipped(v.verification.signer, 24)) : 'not recorded',
        provenance(v),
        v.verification?.sbom ? `${v.verification.sbom.components} components, ${v.verification.sbom.packages} packages` : 'none',
        h('code', { title: v.component.digest }, `${v.component.digest.slice(0, 19)}…`),
        formatBytes(v.component.sizeBytes),
        v.imports.join(', ') || 'none',
        time(v.createdAt),
      ]),
      'none admitted yet.',
    ),
  );
}

function provenance(v: AppVersion): Child {
  const p = v.verification?.provenance;
  if (!p) return 'none';
  return `${p.builderId}${p.sourceRepository ? ` from ${p.sourceRepository}` : ''}`;
}
