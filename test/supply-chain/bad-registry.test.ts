import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { sha256Digest } from '../../common/digest.js';
import type { RegistryClientOptions } from '../../oci/client.js';
import { MEDIA_TYPE } from '../../oci/media-types.js';
import { generateVendorKey } from '../../trust/signing/keys.js';
import { startFakeRegistry, type FakeRegistry, type Handler } from '../oci/fake-registry.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { freePort } from '../support/registry.js';
import { addVendor, refusal, register, type Caller } from './support.js';

// Registries that answer badly, at admission: each a problem document that says what was
// wrong (422 for what the registry served, 502/504 when it cannot be used), within bounded
// time (each exchange has a deadline and an idle timeout, the whole admission a bound), never
// a 500 and never a stored version.
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.imageManifest,
    config: { mediaType: MEDIA_TYPE.wasmConfig, digest: sha256Digest('{}'), size: 2 },
    layers: [{ mediaType: MEDIA_TYPE.wasmLayer, digest: sha256Digest('wasm'), size: 4 }],
  }),
);

const onManifest =
  (answer: (res: ServerResponse) => void): Handler =>
  (req, res) => {
    if (/\/manifests\//.test(req.url ?? '')) return answer(res);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
  };

const fakes: Record<string, Handler> = {
  hanging: () => {}, // accepts the request and never answers
  dripping: onManifest((res) => {
    // Never silent long enough for the idle timeout, never done: only the admission bound ends it.
    res.writeHead(200, { 'content-type': MEDIA_TYPE.imageManifest, 'content-length': '100000' });
    const timer = setInterval(() => res.write(' '), 200);
    res.on('close', () => clearInterval(timer));
  }),
  truncated: onManifest((res) => {
    res.writeHead(200, { 'content-type': MEDIA_TYPE.imageManifest, 'content-length': String(manifest.length + 500) });
    res.write(manifest.subarray(0, 20), () => res.socket?.destroy());
  }),
  oversized: onManifest((res) => {
    res.writeHead(200, { 'content-type': MEDIA_TYPE.imageManifest, 'content-length': String(5 * 1024 * 1024) });
    res.write(Buffer.alloc(64 * 1024, 0x20));
  }),
  wrongType: onManifest((res) => res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' }).end(manifest)),
  otherBytes: onManifest((res) => res.writeHead(200, { 'content-type': MEDIA_TYPE.imageManifest }).end(manifest)),
  failing: onManifest((res) =>
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]}'),
  ),
};

const servers: Record<string, FakeRegistry> = {};
let closedPort: number;
let h: Harness;
let acme: Caller;
beforeAll(async () => {
  for (const [name, handler] of Object.entries(fakes)) servers[name] = await startFakeRegistry(handler);
  closedPort = await freePort();
  const bounded: RegistryClientOptions = { plainHttp: true, attempts: 2, backoffMs: 10, deadlineMs: 2_000, idleTimeoutMs: 1_000 };
  const registries: Record<string, RegistryClientOptions> = { [`127.0.0.1:${closedPort}`]: bounded };
  for (const s of Object.values(servers)) registries[s.host] = bounded;
  registries[servers.dripping!.host] = { ...bounded, deadlineMs: 60_000, idleTimeoutMs: 10_000 };
  h = await startHarness({ registries, admissionTimeoutMs: 4_000 });
  acme = await addVendor(
    h,
    'acme',
    { vendor: 'acme', publicKeys: [generateVendorKey().publicKeyPem], repositories: ['127\\.0\\.0\\.1:[0-9]+/acme/.+'] },
    'sensor',
  );
});
afterAll(async () => {
  await h?.stop();
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

async function admit(host: string, reference = `oci://${host}/acme/sensor:1.0.0`) {
  const answer = await register(acme, 'sensor', '1.0.0', reference);
  expect(answer.headers['content-type']).toContain('application/problem+json');
  expect(answer.status).not.toBe(500);
  return refusal(answer);
}

describe('bad registry answers at admission', () => {
  it('a registry that accepts the request and never answers: 504 after the idle timeout', async () => {
    const r = await admit(servers.hanging!.host);
    expect(r).toMatchObject({ status: 504, code: 'oci.timeout', field: 'component.reference' });
    expect(r.detail).toMatch(/went silent for 1000 ms/);
  });

  it('a registry that trickles bytes forever: 504 when the admission bound runs out', async () => {
    const r = await admit(servers.dripping!.host);
    expect(r).toMatchObject({ status: 504, code: 'oci.timeout' });
    expect(r.detail).toMatch(/did not finish within 4000 ms/);
  });

  it('a registry that closes the connection early: 502, truncated', async () => {
    const r = await admit(servers.truncated!.host);
    expect(r).toMatchObject({ status: 502, code: 'oci.truncated' });
  });

  it('an oversized manifest is refused by its length, before it is read', async () => {
    expect(await admit(servers.oversized!.host)).toMatchObject({ status: 422, code: 'oci.too-large', field: 'component.reference' });
  });

  it('a manifest of another media type', async () => {
    expect(await admit(servers.wrongType!.host)).toMatchObject({ status: 422, code: 'oci.wrong-media-type' });
  });

  it('a manifest whose bytes do not hash to the pinned digest', async () => {
    const pinned = `oci://${servers.otherBytes!.host}/acme/sensor@${sha256Digest('another manifest')}`;
    const r = await admit(servers.otherBytes!.host, pinned);
    expect(r).toMatchObject({ status: 422, code: 'oci.digest-mismatch' });
  });

  it('a registry that answers 503 (after the retries) and one that is not listening: 502', async () => {
    const failing = await admit(servers.failing!.host);
    expect(failing).toMatchObject({ status: 502, code: 'oci.registry-error' });
    expect(failing.detail).toMatch(/503.*down for maintenance/);
    expect(servers.failing!.requests.filter((r) => r.url.includes('/manifests/'))).toHaveLength(2);
    expect(await admit(`127.0.0.1:${closedPort}`)).toMatchObject({ status: 502, code: 'oci.connection' });
  });

  it('nothing refused was stored', async () => {
    expect((await h.admin('GET', '/api/v1/catalog/apps/sensor/versions')).body.versions).toEqual([]);
  });
});
