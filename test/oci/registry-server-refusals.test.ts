import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Digest } from '../../common/digest.js';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { encodeJson } from '../../oci/manifest.js';
import { EMPTY_JSON, MEDIA_TYPE } from '../../oci/media-types.js';
import { startRegistryServer, type RunningRegistryServer } from '../../oci/server/serve.js';
import { suiteTempDir } from '../support/tmp.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** Raw HTTP, so paths go out exactly as written (fetch would normalise `..`). */
function send(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Uint8Array | string; chunks?: Uint8Array[] } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    // One connection per request: a server may answer a refusal before reading the body and close,
    // and the client's late write then fails (EPIPE) on a socket no request listens to any more.
    const req = request({ host: url.hostname, port: url.port, method, path, headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* keep text */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.on('socket', (socket) => socket.on('error', () => {}));
    if (options.chunks) {
      for (const c of options.chunks) req.write(c);
      req.end();
    } else req.end(options.body);
  });
}

function specError(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.errors?.[0]?.code }).toEqual({ status, code });
  if (answer.status !== 405 || answer.body) expect(typeof answer.body.errors[0].message).toBe('string');
}

const manifestOf = (config: Uint8Array, layer: Uint8Array, extra: Record<string, unknown> = {}) =>
  encodeJson({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.imageManifest,
    config: { mediaType: MEDIA_TYPE.wasmConfig, digest: sha256Digest(config), size: config.byteLength },
    layers: [{ mediaType: MEDIA_TYPE.wasmLayer, digest: sha256Digest(layer), size: layer.byteLength }],
    ...extra,
  });

describe('embedded registry refusals', () => {
  const dir = suiteTempDir('oci-refusals');
  let registry: RunningRegistryServer;
  let url: string;
  const layer = new Uint8Array([0, 0x61, 0x73, 0x6d, ...randomBytes(100)]);
  const config = new TextEncoder().encode('{"architecture":"wasm"}');
  const upload = (name: string, bytes: Uint8Array, digest = sha256Digest(bytes)) =>
    send(url, 'POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, { headers: { 'content-type': 'application/octet-stream' }, body: bytes });

  beforeAll(async () => {
    registry = await startRegistryServer({ dir, maxBlobBytes: 64 * 1024 });
    url = registry.url;
    expect((await upload('acme/app', layer)).status).toBe(201);
    expect((await upload('acme/app', config)).status).toBe(201);
  });
  afterAll(async () => registry?.close());

  it('answers unknown tags, blobs and repositories with 404 and the spec code', async () => {
    specError(await send(url, 'GET', '/v2/acme/app/manifests/9.9.9'), 404, 'MANIFEST_UNKNOWN');
    specError(await send(url, 'GET', `/v2/acme/app/manifests/${sha256Digest('nothing')}`), 404, 'MANIFEST_UNKNOWN');
    specError(await send(url, 'GET', `/v2/acme/app/blobs/${sha256Digest('nothing')}`), 404, 'BLOB_UNKNOWN');
    specError(await send(url, 'GET', '/v2/acme/nobody/manifests/1.0.0'), 404, 'NAME_UNKNOWN');
    specError(await send(url, 'GET', '/v2/acme/nobody/tags/list'), 404, 'NAME_UNKNOWN');
    expect((await send(url, 'HEAD', '/v2/acme/app/manifests/9.9.9')).status).toBe(404);
    // A blob another repository holds is not readable through this one.
    specError(await send(url, 'GET', `/v2/globex/app/blobs/${sha256Digest(layer)}`), 404, 'NAME_UNKNOWN');
    await upload('globex/app', config);
    specError(await send(url, 'GET', `/v2/globex/app/blobs/${sha256Digest(layer)}`), 404, 'BLOB_UNKNOWN');
  });

  it('refuses an upload whose bytes do not match its digest, and keeps nothing of it', async () => {
    const bytes = randomBytes(500);
    specError(await upload('acme/app', bytes, sha256Digest('other bytes')), 400, 'DIGEST_INVALID');
    expect((await send(url, 'HEAD', `/v2/acme/app/blobs/${sha256Digest('other bytes')}`)).status).toBe(404);
    expect((await send(url, 'HEAD', `/v2/acme/app/blobs/${sha256Digest(bytes)}`)).status).toBe(404);
    expect(await readdir(join(dir, '_tmp'))).toEqual([]);

    // Chunked: the closing PUT with a wrong digest ends the session.
    const open = await send(url, 'POST', '/v2/acme/app/blobs/uploads/');
    expect(open.status).toBe(202);
    const location = String(open.headers.location);
    expect((await send(url, 'PATCH', location, { headers: { 'content-range': '0-499' }, body: bytes })).status).toBe(202);
    specError(await send(url, 'PUT', `${location}?digest=${sha256Digest('x')}`), 400, 'DIGEST_INVALID');
    specError(await send(url, 'PATCH', location, { body: bytes }), 404, 'BLOB_UPLOAD_UNKNOWN');
    specError(await upload('acme/app', bytes, 'sha256:abc' as never), 400, 'DIGEST_INVALID');
    specError(await send(url, 'POST', `/v2/acme/app/blobs/uploads/?digest=md5:${'0'.repeat(32)}`, { body: bytes }), 400, 'DIGEST_INVALID');
  });

  it('refuses chunks out of order, sessions of another repository and unknown session ids', async () => {
    const open = await send(url, 'POST', '/v2/acme/app/blobs/uploads/');
    const location = String(open.headers.location);
    const id = location.split('/').at(-1)!;
    specError(await send(url, 'PATCH', location, { headers: { 'content-range': '10-19' }, body: randomBytes(10) }), 416, 'BLOB_UPLOAD_INVALID');
    const again = String((await send(url, 'POST', '/v2/acme/app/blobs/uploads/')).headers.location);
    specError(await send(url, 'PATCH', again.replace('acme/app', 'globex/app'), { body: randomBytes(10) }), 404, 'BLOB_UPLOAD_UNKNOWN');
    specError(await send(url, 'PATCH', `/v2/acme/app/blobs/uploads/${id.replace(/./, 'x')}`, { body: randomBytes(10) }), 404, 'BLOB_UPLOAD_UNKNOWN');
    specError(await send(url, 'PATCH', '/v2/acme/app/blobs/uploads/..%2F..%2Fblobs', { body: randomBytes(10) }), 404, 'BLOB_UPLOAD_UNKNOWN');
    specError(await send(url, 'PATCH', again, { headers: { 'content-range': 'lots' }, body: randomBytes(10) }), 400, 'BLOB_UPLOAD_INVALID');
  });

  it('refuses oversized blobs and manifests, whether announced or streamed', async () => {
    const before = await readdir(join(dir, '_tmp'));
    specError(await upload('acme/app', randomBytes(64 * 1024 + 1)), 413, 'SIZE_INVALID');
    // No Content-Length (chunked transfer): counted as it arrives.
    const big = Array.from({ length: 20 }, () => randomBytes(4096));
    specError(await send(url, 'POST', `/v2/acme/app/blobs/uploads/?digest=${sha256Digest(Buffer.concat(big))}`, { chunks: big }), 413, 'SIZE_INVALID');
    const open = String((await send(url, 'POST', '/v2/acme/app/blobs/uploads/')).headers.location);
    expect((await send(url, 'PATCH', open, { body: randomBytes(60 * 1024) })).status).toBe(202);
    specError(await send(url, 'PATCH', open, { body: randomBytes(8 * 1024) }), 413, 'SIZE_INVALID');
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    specError(
      await send(url, 'PUT', '/v2/acme/app/manifests/1.0.0', { headers: { 'content-type': MEDIA_TYPE.imageManifest }, body: huge }),
      413,
      'SIZE_INVALID',
    );
    specError(
      await send(url, 'PUT', '/v2/acme/app/manifests/1.0.0', { headers: { 'content-type': MEDIA_TYPE.imageManifest }, chunks: [huge] }),
      413,
      'SIZE_INVALID',
    );
    // The session that went over the limit is gone with its bytes; nothing else was left behind.
    expect((await readdir(join(dir, '_tmp'))).sort()).toEqual(before.sort());
  });

  it('refuses a manifest naming a blob the repository does not hold, or with the wrong size', async () => {
    const missing = manifestOf(config, new Uint8Array([1, 2, 3]));
    const put = (ref: string, body: Uint8Array | string, type: string = MEDIA_TYPE.imageManifest) =>
      send(url, 'PUT', `/v2/acme/app/manifests/${ref}`, { headers: { 'content-type': type }, body });
    const answer = await put('1.0.0', missing);
    specError(answer, 400, 'MANIFEST_BLOB_UNKNOWN');
    expect(answer.body.errors[0].message).toContain(sha256Digest(new Uint8Array([1, 2, 3])));
    const wrongSize = encodeJson({
      ...JSON.parse(Buffer.from(manifestOf(config, layer)).toString()),
      config: { mediaType: MEDIA_TYPE.wasmConfig, digest: sha256Digest(config), size: 3 },
    });
    specError(await put('1.0.0', wrongSize), 400, 'MANIFEST_INVALID');
    specError(await send(url, 'GET', '/v2/acme/app/manifests/1.0.0'), 404, 'MANIFEST_UNKNOWN');
  });

  it('refuses malformed manifests, naming what is wrong', async () => {
    const good = manifestOf(config, layer);
    const put = (ref: string, body: Uint8Array | string, type: string = MEDIA_TYPE.imageManifest) =>
      send(url, 'PUT', `/v2/acme/app/manifests/${ref}`, { headers: { 'content-type': type }, body });
    specError(await put('1.0.0', good, 'application/json'), 400, 'MANIFEST_INVALID');
    specError(await put('1.0.0', good, MEDIA_TYPE.imageIndex), 400, 'MANIFEST_INVALID');
    specError(await put('1.0.0', '{"schemaVersion":2,'), 400, 'MANIFEST_INVALID');
    const noLayers = await put(
      '1.0.0',
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.imageManifest, config: JSON.parse(Buffer.from(good).toString()).config, layers: 'x' }),
    );
    specError(noLayers, 400, 'MANIFEST_INVALID');
    expect(noLayers.body.errors[0].message).toContain('layers');
    specError(await put(sha256Digest('other'), good), 400, 'DIGEST_INVALID');
    specError(await put('-bad-tag', good), 400, 'MANIFEST_INVALID');
    specError(await put('1.0.0', '[]'), 400, 'MANIFEST_INVALID');
    // The same bytes go in under their own digest and under a tag.
    const ok = await put(sha256Digest(good), good);
    expect(ok.status).toBe(201);
    expect(ok.headers['docker-content-digest']).toBe(sha256Digest(good));
    expect((await put('1.0.0', good)).status).toBe(201);
  });

  it('refuses repository names outside the grammar and any path that climbs out', async () => {
    for (const name of ['Acme/app', 'acme//app', '-acme/app', 'acme/_tags', 'acme/app.', 'acme/.hidden', 'a'.repeat(256)]) {
      specError(await send(url, 'GET', `/v2/${name}/manifests/1.0.0`), 400, 'NAME_INVALID');
    }
    specError(await send(url, 'GET', '/v2/acme/..%2F..%2F..%2Fetc/manifests/1.0.0'), 400, 'NAME_INVALID');
    // Dot segments are resolved by URL parsing before routing: they never reach a handler.
    const climbed = await send(url, 'GET', '/v2/acme/../../../etc/passwd/blobs/x');
    expect(climbed.status).toBe(404);
    expect(climbed.body.errors[0].code).toBe('UNSUPPORTED');
    specError(await send(url, 'GET', '/v2/acme/app/blobs/..%2F..%2Frepositories'), 400, 'DIGEST_INVALID');
  });

  it('answers wrong methods with 405 and unknown paths with 404', async () => {
    specError(await send(url, 'DELETE', '/v2/acme/app/manifests/1.0.0'), 405, 'UNSUPPORTED');
    specError(await send(url, 'POST', '/v2/'), 405, 'UNSUPPORTED');
    specError(await send(url, 'GET', '/v3/'), 404, 'UNSUPPORTED');
    const ping = await send(url, 'GET', '/v2/');
    expect(ping.status).toBe(200);
    expect(ping.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('pages tags, filters referrers and answers an empty index for a subject without any', async () => {
    const good = manifestOf(config, layer);
    for (const tag of ['1.0.0', '1.1.0', '2.0.0'])
      await send(url, 'PUT', `/v2/acme/app/manifests/${tag}`, { headers: { 'content-type': MEDIA_TYPE.imageManifest }, body: good });
    const first = await send(url, 'GET', '/v2/acme/app/tags/list?n=2');
    expect(first.body.tags).toEqual(['1.0.0', '1.1.0']);
    expect(first.headers.link).toBe('</v2/acme/app/tags/list?n=2&last=1.1.0>; rel="next"');
    expect((await send(url, 'GET', '/v2/acme/app/tags/list?n=2&last=1.1.0')).body.tags).toEqual(['2.0.0']);
    specError(await send(url, 'GET', '/v2/acme/app/tags/list?n=lots'), 400, 'UNSUPPORTED');

    const none = await send(url, 'GET', `/v2/acme/app/referrers/${sha256Digest(good)}`);
    expect(none.status).toBe(200);
    expect(none.headers['content-type']).toBe(MEDIA_TYPE.imageIndex);
    expect(none.body).toEqual({ schemaVersion: 2, mediaType: MEDIA_TYPE.imageIndex, manifests: [] });

    await upload('acme/app', EMPTY_JSON);
    const referrer = encodeJson({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.imageManifest,
      artifactType: 'application/example',
      config: { mediaType: MEDIA_TYPE.emptyJson, digest: sha256Digest(EMPTY_JSON), size: 2 },
      layers: [],
      subject: { mediaType: MEDIA_TYPE.imageManifest, digest: sha256Digest(good), size: good.byteLength },
    });
    const put = await send(url, 'PUT', `/v2/acme/app/manifests/${sha256Digest(referrer)}`, {
      headers: { 'content-type': MEDIA_TYPE.imageManifest },
      body: referrer,
    });
    expect(put.headers['oci-subject']).toBe(sha256Digest(good));
    const all = await send(url, 'GET', `/v2/acme/app/referrers/${sha256Digest(good)}`);
    expect(all.body.manifests).toEqual([
      { mediaType: MEDIA_TYPE.imageManifest, digest: sha256Digest(referrer), size: referrer.byteLength, artifactType: 'application/example' },
    ]);
    const filtered = await send(url, 'GET', `/v2/acme/app/referrers/${sha256Digest(good)}?artifactType=application/other`);
    expect(filtered.headers['oci-filters-applied']).toBe('artifactType');
    expect(filtered.body.manifests).toEqual([]);
    specError(await send(url, 'GET', '/v2/acme/app/referrers/latest'), 400, 'DIGEST_INVALID');
  });

  it('mounts a blob from another repository it is held in, and opens a session otherwise', async () => {
    const mounted = await send(url, 'POST', `/v2/acme/mounted/blobs/uploads/?mount=${sha256Digest(layer)}&from=acme/app`);
    expect(mounted.status).toBe(201);
    expect((await send(url, 'HEAD', `/v2/acme/mounted/blobs/${sha256Digest(layer)}`)).headers['content-length']).toBe(String(layer.byteLength));
    const fallback = await send(url, 'POST', `/v2/acme/mounted/blobs/uploads/?mount=${sha256Digest('absent')}&from=acme/app`);
    expect(fallback.status).toBe(202);
  });

  it('never answers 500 to random paths, methods and bodies (bounded)', async () => {
    const pieces = [
      'v2',
      'acme',
      'app',
      'manifests',
      'blobs',
      'uploads',
      'tags',
      'list',
      'referrers',
      '..',
      '%2e',
      '_tags',
      sha256Digest('x'),
      '1.0.0',
      'A',
      '',
    ];
    const methods = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'];
    for (let i = 0; i < 200; i++) {
      const segs = Array.from({ length: 2 + (i % 6) }, (_, k) => pieces[(i * 7 + k * 13) % pieces.length]);
      const answer = await send(url, methods[i % methods.length]!, `/v2/${segs.join('/')}`, { body: randomBytes(i % 3 === 0 ? 0 : 64) });
      expect(answer.status, `/v2/${segs.join('/')}`).toBeLessThan(500);
    }
  });
});

describe('read-only mode and session limits', () => {
  const dir = suiteTempDir('oci-readonly');
  let writer: RunningRegistryServer;
  let reader: RunningRegistryServer;
  beforeAll(async () => {
    writer = await startRegistryServer({ dir });
    await pushComponent(new RegistryClient(writer.host, { plainHttp: true }), 'acme/app', '1.0.0', new Uint8Array([0, 0x61, 0x73, 0x6d, 1]), []);
    await writer.close();
    reader = await startRegistryServer({ dir, readOnly: true });
  });
  afterAll(async () => reader?.close());

  it('serves pulls and refuses every write with 405 UNSUPPORTED', async () => {
    expect((await send(reader.url, 'GET', '/v2/acme/app/manifests/1.0.0')).status).toBe(200);
    specError(await send(reader.url, 'POST', '/v2/acme/app/blobs/uploads/'), 405, 'UNSUPPORTED');
    specError(
      await send(reader.url, 'PUT', '/v2/acme/app/manifests/2.0.0', { headers: { 'content-type': MEDIA_TYPE.imageManifest }, body: '{}' }),
      405,
      'UNSUPPORTED',
    );
    specError(await send(reader.url, 'PATCH', `/v2/acme/app/blobs/uploads/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`), 405, 'UNSUPPORTED');
    const client = new RegistryClient(reader.host, { plainHttp: true, attempts: 1 });
    await expect(pushComponent(client, 'acme/app', '2.0.0', new Uint8Array([0, 0x61, 0x73, 0x6d, 2]), [])).rejects.toMatchObject({
      message: expect.stringContaining('read-only'),
    });
  });

  it('answers 429 when too many upload sessions are open', async () => {
    const { registryApp } = await import('../../oci/server/routes.js');
    const { RegistryStorage } = await import('../../oci/server/storage.js');
    const app = registryApp({ storage: await RegistryStorage.open(join(dir, 'limited')), maxUploadSessions: 2 });
    const post = () => app.request('/v2/acme/app/blobs/uploads/', { method: 'POST' });
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(202);
    const third = await post();
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ errors: [{ code: 'TOOMANYREQUESTS' }] });
  });
});
