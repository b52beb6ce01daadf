import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { berth } from '../support/berth-in-process.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';
import { harnessWithRoles } from '../deployments/operator-api.js';

const api = harnessWithRoles(['vendor:acme', 'vendor:globex']);
/** `berth advisory create` with these flags (`{ id: 'CVE-…' }` → `--id CVE-…`), then `rest` (where to reach the control plane). */
const create = (flags: Record<string, string>, ...rest: string[]) =>
  berth('advisory', 'create', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]), ...rest);
const said = (r: { code: number; out: string; err: string }) => `exit ${r.code}; stdout: ${r.out}; stderr: ${r.err}`;
let remote: (role: string) => string[];

beforeAll(async () => {
  for (const name of ['acme', 'globex'])
    expect((await api.h.admin('POST', '/api/v1/catalog/vendors', { name, trustPolicy: testTrustPolicy(name) })).status).toBe(201);
  expect((await api.as('vendor:acme')('POST', '/api/v1/catalog/apps', { id: 'meter' })).status).toBe(201);
  await insertVerifiedVersion(api.h.cp.deps.store, {
    appId: 'meter',
    version: '1.0.0',
    digest: `sha256:${'1'.repeat(64)}`,
    rootsFingerprint: api.h.cp.deps.artifacts!.roots.fingerprint,
  });
  const caFile = join(api.h.dir, 'cli-ca.pem');
  writeFileSync(caFile, api.h.ca.join('\n'));
  remote = (role) => ['--url', api.h.cp.url, '--token', api.token(role), '--ca', caFile];
});

describe('berth advisory', () => {
  it('creates from flags or a file, lists and shows, over the admin socket or with a token', async () => {
    const created = await create(
      { id: 'CVE-2026-40001', summary: 'overflow', severity: 'high', action: 'block', app: 'meter', versions: '<2.0.0', reference: 'https://example.test/a' },
      ...remote('vendor:acme'),
    );
    expect(created.code, said(created)).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({
      id: 'CVE-2026-40001',
      vendor: 'acme',
      affectedVersions: [{ app: 'meter', version: '1.0.0' }],
      references: ['https://example.test/a'],
    });
    const file = join(api.h.dir, 'advisory.json');
    writeFileSync(
      file,
      JSON.stringify({ id: 'GHSA-2f3m-4q5r-6w7x', summary: 's', severity: 'low', action: 'warn', affected: [{ digests: [`sha256:${'1'.repeat(64)}`] }] }),
    );
    const fromFile = await berth('advisory', 'create', '--file', file, '--data-dir', api.h.dir);
    expect(fromFile.code, said(fromFile)).toBe(0);
    expect(JSON.parse(fromFile.out).vendor).toBeNull();
    const list = await berth('advisory', 'list', '--data-dir', api.h.dir);
    const listYaml = await berth('advisory', 'list', '-o', 'yaml', '--data-dir', api.h.dir);
    expect(parseYaml(listYaml.out)).toEqual(JSON.parse(list.out));
    expect((await berth('advisory', 'list', '-o', 'table', '--data-dir', api.h.dir)).code).toBe(2);
    expect(
      JSON.parse(list.out)
        .advisories.map((a: { id: string }) => a.id)
        .sort(),
    ).toEqual(['CVE-2026-40001', 'GHSA-2f3m-4q5r-6w7x']);
    const shown = await berth('advisory', 'show', 'CVE-2026-40001', ...remote('vendor:acme'));
    expect(JSON.parse(shown.out).action).toBe('block');
    const exposure = await berth('advisory', 'exposure', 'CVE-2026-40001', '--group-by', 'line', '--data-dir', api.h.dir);
    expect(exposure.code, said(exposure)).toBe(0);
    expect(JSON.parse(exposure.out)).toMatchObject({ advisory: 'CVE-2026-40001', groupBy: 'line', devices: [] });
    const csv = await berth('advisory', 'exposure', 'CVE-2026-40001', '--csv', '--data-dir', api.h.dir);
    expect(csv.out).toBe('device_id,group,offline_since,deployment_id,app,version,digest,from,to,now,now_version,now_since\r\n');
    const vendorAsks = await berth('advisory', 'exposure', 'CVE-2026-40001', ...remote('vendor:acme'));
    expect(vendorAsks.code, said(vendorAsks)).toBe(1);
  });

  it('says what is wrong: a missing flag or file before any request, a refusal with the problem (exit 1); no subcommand prints the usage (exit 2)', async () => {
    const missing = await berth('advisory', 'create', '--id', 'CVE-2026-40002', '--data-dir', api.h.dir);
    expect(missing.code, said(missing)).toBe(1);
    expect(missing.err).toContain('create needs --summary');
    const halfPair = await create({ id: 'CVE-2026-40002', summary: 's', severity: 'low', action: 'warn', app: 'meter' }, '--data-dir', api.h.dir);
    expect(halfPair.err).toContain('--app and --versions go together');
    const other = await berth('advisory', 'show', 'CVE-2026-40001', ...remote('vendor:globex'));
    expect(other.code, said(other)).toBe(1);
    expect(other.err).toContain('No such advisory');
    const bad = await create({ id: 'CVE-2026-40002', summary: 's', severity: 'severe', action: 'warn', app: 'meter', versions: '*' }, '--data-dir', api.h.dir);
    expect(bad.code, said(bad)).toBe(1);
    expect(bad.err).toContain('severity');
    const unreadable = await berth('advisory', 'create', '--file', join(api.h.dir, 'nope.json'), '--data-dir', api.h.dir);
    expect(unreadable.err).toContain('nope.json');
    expect((await berth('advisory', 'frobnicate', '--data-dir', api.h.dir)).err).toContain("unknown subcommand 'frobnicate'");
    expect((await berth('advisory')).code).toBe(2);
    // The control plane's history retention is checked before anything starts.
    for (const option of ['--run-history-days', '--usage-history-days'])
      for (const bad of ['0', '1.5', 'ever']) {
        const r = await berth('orchestrator', 'start', option, bad, '--data-dir', join(api.h.dir, 'never-started'));
        expect(r.code, said(r)).toBe(1);
        expect(r.err).toContain(`${option} must be a whole number of days from 1 to 36500, not '${bad}'`);
      }
  });
});

describe('berth vex', () => {
  it('states, exports and imports statements, and names what is wrong', async () => {
    const stated = await berth(
      'vex',
      'state',
      'CVE-2026-40001',
      '--app',
      'meter',
      '--version',
      '1.0.0',
      '--status',
      'not_affected',
      '--justification',
      'code_not_present',
      ...remote('vendor:acme'),
    );
    expect(stated.code, said(stated)).toBe(0);
    expect(JSON.parse(stated.out).statements).toEqual([
      { advisoryId: 'CVE-2026-40001', app: 'meter', version: '1.0.0', status: 'not_affected', justification: 'code_not_present' },
    ]);
    const exported = await berth('vex', 'export', 'CVE-2026-40001', '--format', 'cyclonedx', '--data-dir', api.h.dir);
    expect(exported.code, said(exported)).toBe(0);
    const doc = JSON.parse(exported.out);
    expect(doc.vulnerabilities[0]).toMatchObject({ id: 'CVE-2026-40001', analysis: { state: 'not_affected', justification: 'code_not_present' } });
    const file = join(api.h.dir, 'vex.cdx.json');
    writeFileSync(file, JSON.stringify(doc));
    const imported = await berth('vex', 'import', file, ...remote('vendor:acme'));
    expect(imported.code, said(imported)).toBe(0);
    const other = await berth('vex', 'import', file, ...remote('vendor:globex'));
    expect(other.code, said(other)).toBe(1);
    expect(other.err).toContain('another vendor');
    const noStatus = await berth('vex', 'state', 'CVE-2026-40001', '--app', 'meter', '--version', '1.0.0', '--data-dir', api.h.dir);
    expect(noStatus.err).toContain('state needs --status');
    expect((await berth('vex', 'export', '--data-dir', api.h.dir)).err).toContain('export takes one argument');
  });
});
