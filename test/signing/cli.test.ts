import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { berth } from '../support/berth-in-process.js';

describe('berth vendor commands', () => {
  let dir: string;
  let registry: TestRegistry;
  const p = (name: string): string => join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
    registry = await startRegistry();
    await writeFile(p('sensor.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, ...randomBytes(5000)]));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keygen writes a private key readable only by its owner and refuses to overwrite it', async () => {
    const r = await berth('keygen', '--out', p('acme'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/key id [0-9a-f]{64}/);
    expect((await stat(p('acme.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(p('acme.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await berth('keygen', '--out', p('acme'));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/exists; use --force/);
    expect((await berth('keygen', '--out', p('other'))).code).toBe(0);
  });

  it('sign, attest, push, pull and verify round-trip through the registry', async () => {
    expect((await berth('sign', p('sensor.wasm'), '--key', p('acme.key'))).code).toBe(0);
    const attest = await berth(
      'attest',
      p('sensor.wasm'),
      '--key',
      p('acme.key'),
      '--builder-id',
      'https://ci.acme.example/b',
      '--source-repo',
      'https://git.acme.example/sensor',
    );
    expect(attest.code).toBe(0);
    const push = await berth('push', p('sensor.wasm'), `oci://${registry.host}/acme/sensor:1.0.0`, '--plain-http');
    expect(push.err).toBe('');
    expect(push.out).toMatch(/attached 2 bundle\(s\)/);
    const pinned = /pinned (oci:\/\/\S+)/.exec(push.out)![1]!;

    const policy = {
      vendor: 'acme',
      publicKeys: [await readFile(p('acme.pub'), 'utf8')],
      require: { provenance: true, builderIds: ['https://ci\\.acme\\.example/.*'] },
    };
    await writeFile(p('policy.json'), JSON.stringify(policy));
    const pull = await berth('pull', pinned, '--plain-http', '--policy', p('policy.json'), '--out', p('pulled.wasm'));
    expect(pull.err).toBe('');
    expect(pull.out).toMatch(/verified: signed by vendor 'acme'.*built by https:\/\/ci\.acme\.example\/b/);
    expect(Buffer.compare(await readFile(p('pulled.wasm')), await readFile(p('sensor.wasm')))).toBe(0);

    const verifyRemote = await berth('verify', `oci://${registry.host}/acme/sensor:1.0.0`, '--plain-http', '--policy', p('policy.json'));
    expect(verifyRemote.code).toBe(0);
    expect(verifyRemote.out).toMatch(/provenance: builder https:\/\/ci\.acme\.example\/b, source https:\/\/git\.acme\.example\/sensor/);
    expect((await berth('verify', p('pulled.wasm'), '--key', p('acme.pub'))).code).toBe(0);
  });

  it('verify refuses the wrong vendor key with exit status 1 and the reason', async () => {
    const r = await berth('verify', p('sensor.wasm'), '--key', p('other.pub'), '--vendor', 'other');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not signed by vendor 'other'.*not among vendor 'other''s keys/);
  });

  it('pull with a policy writes nothing when the component does not verify', async () => {
    const r = await berth('pull', `oci://${registry.host}/acme/sensor:1.0.0`, '--plain-http', '--key', p('other.pub'), '--out', p('refused.wasm'));
    expect(r.code).toBe(1);
    await expect(stat(p('refused.wasm'))).rejects.toThrow(/ENOENT/);
  });

  it('push refuses an unsigned component and a signature over other bytes', async () => {
    await writeFile(p('lonely.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1]));
    const unsigned = await berth('push', p('lonely.wasm'), `oci://${registry.host}/acme/lonely:1.0.0`, '--plain-http');
    expect(unsigned.code).toBe(1);
    expect(unsigned.err).toMatch(/no signature for .*lonely\.wasm/);
    const wrong = await berth('push', p('lonely.wasm'), `oci://${registry.host}/acme/lonely:1.0.0`, '--plain-http', '--signature', p('sensor.wasm.sig.json'));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/signs sha256:[0-9a-f]{64}, not/);
  });

  it('push refuses a tag that is not a Margo SemVer version', async () => {
    const r = await berth('push', p('sensor.wasm'), `oci://${registry.host}/acme/sensor:v1.0.0`, '--plain-http');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no leading 'v'/);
  });

  it.each(['keygen', 'sign', 'attest', 'push', 'pull', 'verify'])('%s --help prints usage and exits 0; missing arguments exit 2', async (name) => {
    const help = await berth(name, '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(new RegExp(`^usage: berth ${name}`));
    if (name !== 'keygen') {
      const bare = await berth(name);
      expect(bare.code).toBe(2);
      expect(bare.err).toMatch(new RegExp(`^berth ${name}: `));
    }
  });
});
