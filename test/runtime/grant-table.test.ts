import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import { GRANT_DEFINITIONS, GRANT_TABLE, interfacesOf } from '../../host-apis/grant-table/index.js';
import { judgeImport } from '../../host-apis/import-policy.js';
import { linkHostApis } from '../../host-apis/linker.js';
import { GRANT_HANDLERS } from '../../runtime/grant-handlers.js';
import { GRANT_NAMES, type GrantName } from '../../wire/grants.js';

/**
 * Which interfaces each grant allows, written down from import-policy.ts as it was before the
 * grant table (host-apis/grant-table/) existed: the table must not change what a grant lets an
 * app import. Changing this map is changing the security policy; do it on purpose only.
 */
const ALLOWED: Record<GrantName, string[]> = {
  log: ['berth:host/log'],
  config: ['berth:host/config'],
  keyvalue: ['berth:host/keyvalue'],
  files: ['wasi:filesystem/types', 'wasi:filesystem/preopens'],
  'outbound-http': ['wasi:http/outgoing-handler', 'wasi:http/types'],
  'inbound-http': ['wasi:http/types'],
  messaging: ['berth:host/messaging'],
  identity: ['berth:host/identity'],
  clocks: ['wasi:clocks/wall-clock', 'wasi:clocks/monotonic-clock'],
  random: ['wasi:random/random', 'wasi:random/insecure', 'wasi:random/insecure-seed'],
};

/** The smallest valid value of each grant. */
const SAMPLE: Record<GrantName, unknown> = {
  log: {},
  config: { values: { greeting: 'hi' } },
  keyvalue: {},
  files: {},
  'outbound-http': { allow: ['https://a.example:443'] },
  'inbound-http': { route: '/app' },
  messaging: { publish: ['a'], subscribe: ['a'] },
  identity: { audiences: ['https://aud.example'] },
  clocks: {},
  random: {},
};

const OFFERED = [...new Set(Object.values(ALLOWED).flat())];

describe('one grant, the imports it allows', () => {
  it('the pinned map covers exactly the wire vocabulary', () => {
    expect(Object.keys(ALLOWED).sort()).toEqual([...GRANT_NAMES].sort());
  });

  it('the grant table has one entry per wire grant, and no other', () => {
    expect(GRANT_DEFINITIONS.map((d) => d.name).sort()).toEqual([...GRANT_NAMES].sort());
    for (const [key, definition] of Object.entries(GRANT_TABLE)) expect(definition.name).toBe(key);
    // The main-thread half says for every grant whether it has handlers, and names no other.
    expect(Object.keys(GRANT_HANDLERS).sort()).toEqual([...GRANT_NAMES].sort());
    expect(
      Object.entries(GRANT_HANDLERS)
        .filter(([, handlers]) => handlers)
        .map(([name]) => name)
        .sort(),
    ).toEqual(['identity', 'messaging', 'outbound-http']);
  });

  it("each table entry's interfaces are exactly what the grant allowed before the table", () => {
    for (const definition of GRANT_DEFINITIONS) {
      expect({ name: definition.name, interfaces: interfacesOf(definition).sort() }).toEqual({
        name: definition.name,
        interfaces: [...ALLOWED[definition.name]].sort(),
      });
    }
  });

  it('each grant alone allows exactly its interfaces, whatever the version suffix', () => {
    for (const name of GRANT_NAMES) {
      const grants = parseGrants({ [name]: SAMPLE[name] });
      const allowed = OFFERED.filter((iface) => judgeImport(`${iface}@0.2.0`, grants).allowed);
      expect({ name, allowed: allowed.sort() }).toEqual({ name, allowed: [...ALLOWED[name]].sort() });
    }
  });

  it('every grant together still allows nothing outside the map', () => {
    const all = parseGrants(SAMPLE);
    expect(judgeImport('wasi:sockets/tcp@0.2.0', all)).toMatchObject({ allowed: false });
    expect(judgeImport('wasi:http/incoming-handler@0.2.0', all)).toMatchObject({ allowed: false });
    // Interface names are the component's text: one spelled like an Object property is refused, not a crash.
    for (const name of ['constructor', '__proto__', 'toString'])
      expect(judgeImport(name, all)).toMatchObject({ allowed: false, reason: expect.stringContaining('not offered') });
  });

  const dataDir = mkdtempSync(join(tmpdir(), 'berth-grant-table-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('each grant links a host object for every interface it allows', () => {
    for (const name of GRANT_NAMES) {
      const context = {
        identity: { vendor: 'acme', app: name, instance: 'i-1' },
        grants: parseGrants({ [name]: SAMPLE[name] }),
        dataDir: join(dataDir, name),
        logSink: () => {},
      };
      const { imports } = linkHostApis(
        ALLOWED[name].map((i) => `${i}@0.2.0`),
        context,
      );
      expect({ name, linked: Object.keys(imports).sort() }).toEqual({ name, linked: [...ALLOWED[name]].sort() });
      for (const host of Object.values(imports)) expect(host).toBeTruthy();
    }
  });
});
