import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { digestHex, sha256Digest } from '../../common/digest.js';
import { inspectComponent } from '../../runtime/component/inspect.js';
import type { CycloneDxJson } from '../../trust/sbom/bom.js';
import { componentSbom } from '../../trust/sbom/component-sbom.js';
import { parseLockFile } from '../../trust/sbom/lock-files.js';
import { fixturePath } from '../fixtures/build.js';
import { rejectionOf } from '../support/refusal.js';
import { expectValidCycloneDx } from './support.js';

const jsApp = readFileSync(fixturePath('js-app'));
const hello = readFileSync(fixturePath('hello'));

const appLock = parseLockFile(
  'package-lock.json',
  JSON.stringify({
    lockfileVersion: 3,
    packages: {
      '': { name: 'js-app', version: '1.2.0', dependencies: { '@acme/units': '^1' }, devDependencies: { '@bytecodealliance/componentize-js': '^0.23' } },
      'node_modules/@acme/units': { version: '1.4.2', dependencies: { tiny: '^1' } },
      'node_modules/tiny': { version: '1.0.1' },
      'node_modules/@bytecodealliance/componentize-js': { version: '0.23.0', dev: true },
    },
  }),
);

/** Property values of the BOM's subject by name. */
function properties(sbom: CycloneDxJson, name: string): string[] {
  return (sbom.metadata?.component?.properties ?? []).filter((p) => p.name === name).map((p) => p.value ?? '');
}

describe('componentSbom', () => {
  it('a JavaScript component with its lock file: valid CycloneDX 1.6 with the component, producers, WIT and dependencies', async () => {
    const sbom = await componentSbom(jsApp, { name: 'js-app', version: '1.2.0', repository: 'registry.example/acme/js-app', lock: appLock });
    await expectValidCycloneDx(sbom);
    const hex = digestHex(sha256Digest(jsApp));
    const purl = `pkg:oci/js-app@sha256:${hex}?repository_url=registry.example%2Facme%2Fjs-app`;
    expect(sbom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' });
    expect(sbom.metadata?.component).toMatchObject({
      type: 'application',
      name: 'js-app',
      version: '1.2.0',
      purl,
      'bom-ref': purl,
      hashes: [{ alg: 'SHA-256', content: hex }],
    });
    expect(sbom.metadata?.lifecycles).toEqual([{ phase: 'post-build' }, { phase: 'pre-build' }]);
    expect(sbom.metadata?.tools).toMatchObject({ components: [{ type: 'application', name: 'berth' }] });

    const info = inspectComponent(jsApp);
    expect(properties(sbom, 'berth:wit:import').sort()).toEqual([...info.imports].sort());
    expect(properties(sbom, 'berth:wit:export').sort()).toEqual([...info.exports].sort());
    expect(properties(sbom, 'berth:wasm:producers:language')).toContain('JavaScript');
    expect(properties(sbom, 'berth:wasm:producers:processed-by')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ComponentizeJS@\d/), expect.stringMatching(/^wit-component@\d/)]),
    );

    expect(sbom.components?.map((c) => [c.purl, c.scope])).toEqual([
      ['pkg:npm/%40acme/units@1.4.2', 'required'],
      ['pkg:npm/%40bytecodealliance/componentize-js@0.23.0', 'excluded'],
      ['pkg:npm/tiny@1.0.1', 'required'],
    ]);
    expect(sbom.components?.find((c) => c.name === 'componentize-js')).toMatchObject({
      group: '@bytecodealliance',
      properties: [{ name: 'cdx:npm:package:development', value: 'true' }],
    });
    expect(sbom.dependencies).toEqual(
      expect.arrayContaining([
        { ref: purl, dependsOn: ['pkg:npm/%40acme/units@1.4.2', 'pkg:npm/%40bytecodealliance/componentize-js@0.23.0'] },
        { ref: 'pkg:npm/%40acme/units@1.4.2', dependsOn: ['pkg:npm/tiny@1.0.1'] },
      ]),
    );
  });

  it('a WAT component without a lock file: the component alone, no version, the purl name lowercased', async () => {
    const sbom = await componentSbom(hello, { name: 'Hello' });
    await expectValidCycloneDx(sbom);
    expect(sbom.metadata?.component).toMatchObject({ name: 'Hello', purl: `pkg:oci/hello@sha256:${digestHex(sha256Digest(hello))}` });
    expect(sbom.metadata?.component?.version).toBeUndefined();
    expect(properties(sbom, 'berth:wit:import')).toEqual(['berth:host/log@0.1.0']);
    expect(properties(sbom, 'berth:wasm:producers:language')).toEqual([]);
    expect(properties(sbom, 'berth:wasm:producers:processed-by')).toEqual([expect.stringMatching(/^wit-component@\d+\.\d+\.\d+$/)]);
    expect(sbom.components).toEqual([]);
  });

  it('a Cargo.lock and a go.sum: their packages under their purl types; go.sum flat, every module a dependency of the component', async () => {
    const cargo = await componentSbom(hello, {
      name: 'hello',
      lock: parseLockFile(
        'Cargo.lock',
        '[[package]]\nname = "hello"\nversion = "0.1.0"\ndependencies = ["wit-bindgen"]\n\n[[package]]\nname = "wit-bindgen"\nversion = "0.41.0"\nsource = "registry+x"\n',
      ),
    });
    await expectValidCycloneDx(cargo);
    expect(cargo.components?.map((c) => c.purl)).toEqual(['pkg:cargo/wit-bindgen@0.41.0']);
    const go = await componentSbom(hello, {
      name: 'hello',
      lock: parseLockFile('go.sum', 'go.bytecodealliance.org/cm v0.2.2 h1:x=\nrsc.io/quote v1.5.2 h1:y=\n'),
    });
    await expectValidCycloneDx(go);
    const subject = go.metadata?.component?.['bom-ref'];
    expect(go.dependencies?.find((d) => d.ref === subject)?.dependsOn).toEqual([
      'pkg:golang/go.bytecodealliance.org/cm@v0.2.2',
      'pkg:golang/rsc.io/quote@v1.5.2',
    ]);
  });

  // Equal inputs, equal bytes: no timestamp or random serial number, so an SBOM can be referred to by digest.
  it('is the same document for the same inputs', async () => {
    const [a, b] = await Promise.all([componentSbom(jsApp, { name: 'js-app', lock: appLock }), componentSbom(jsApp, { name: 'js-app', lock: appLock })]);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('refuses bytes that are not a component, before anything else', async () => {
    const err = await rejectionOf(componentSbom(new TextEncoder().encode('{"not":"wasm"}'), { name: 'x' }));
    expect(err.code).toBe('malformed-component');
    expect(err.message).toMatch(/not a valid WebAssembly component: missing the \\0asm magic/);
  });

  it('refuses a name no package URL can carry', async () => {
    const err = await rejectionOf(componentSbom(hello, { name: '' }));
    expect(err.code).toBe('sbom.bad-option');
    expect(err.message).toMatch(/no package URL for the component named ""/);
  });
});
