import { afterEach, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../common/digest.js';
import { RegistryClient } from '../../oci/client.js';
import { pullComponent, resolveTag, componentManifest } from '../../oci/artifact.js';
import { encodeJson } from '../../oci/manifest.js';
import { MEDIA_TYPE } from '../../oci/media-types.js';
import { startFakeRegistry, type FakeRegistry, type Handler } from './fake-registry.js';

const MANIFEST_TYPE = MEDIA_TYPE.imageManifest;
const component = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 2, 3, 4]);
const { manifest } = componentManifest(component);
const manifestBytes = Buffer.from(encodeJson(manifest));
const manifestDigest = sha256Digest(manifestBytes);

let fake: FakeRegistry | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function clientFor(handler: Handler, options: ConstructorParameters<typeof RegistryClient>[1] = {}): Promise<RegistryClient> {
  fake = await startFakeRegistry(handler);
  return new RegistryClient(fake.host, { plainHttp: true, attempts: 1, deadlineMs: 2_000, idleTimeoutMs: 500, backoffMs: 10, ...options });
}

function serveManifest(body: Buffer, contentType: string = MANIFEST_TYPE, extra: Record<string, string> = {}): Handler {
  return (req, res) => {
    if (req.url?.includes('/manifests/')) {
      res.writeHead(200, { 'content-type': contentType, 'content-length': body.byteLength, ...extra });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
  };
}

describe('a hostile or broken registry', () => {
  it('refuses a manifest served with the wrong media type', async () => {
    const client = await clientFor(serveManifest(manifestBytes, 'application/vnd.docker.distribution.manifest.v2+json'));
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({
      code: 'oci.wrong-media-type',
      message: expect.stringMatching(/served manifest acme\/a:1\.0\.0 as 'application\/vnd\.docker/),
    });
  });

  it('refuses a manifest whose body says another media type than its header', async () => {
    const lying = Buffer.from(JSON.stringify({ ...manifest, mediaType: MEDIA_TYPE.imageIndex }));
    const client = await clientFor(serveManifest(lying));
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({ code: 'oci.wrong-media-type' });
  });

  it('refuses an artifact that is not a wasm component (config and layer types)', async () => {
    const image = Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, mediaType: 'application/vnd.oci.image.config.v1+json' } }));
    const client = await clientFor(serveManifest(image));
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({
      code: 'oci.wrong-media-type',
      message: expect.stringMatching(/not a wasm component/),
    });
  });

  it('refuses a manifest whose bytes do not hash to the digest asked for', async () => {
    const client = await clientFor(serveManifest(Buffer.from(JSON.stringify({ ...manifest, annotations: { x: 'y' } }))));
    await expect(pullComponent(client, 'acme/a', manifestDigest)).rejects.toMatchObject({ code: 'oci.digest-mismatch' });
  });

  it('refuses a manifest whose Docker-Content-Digest disagrees with its bytes', async () => {
    const client = await clientFor(serveManifest(manifestBytes, MANIFEST_TYPE, { 'docker-content-digest': sha256Digest('other') }));
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({ code: 'oci.digest-mismatch' });
  });

  it('refuses malformed manifest JSON, naming where', async () => {
    const client = await clientFor(
      serveManifest(Buffer.from(JSON.stringify({ ...manifest, layers: [{ mediaType: 'application/wasm', digest: 'md5:x', size: 1 }] }))),
    );
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({
      code: 'oci.bad-manifest',
      message: expect.stringMatching(/layers\.0\.digest/),
    });
  });

  it('refuses a truncated answer', async () => {
    const client = await clientFor((req, res) => {
      res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'content-length': manifestBytes.byteLength });
      res.write(manifestBytes.subarray(0, 20));
      setTimeout(() => res.destroy(), 20);
    });
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({
      code: 'oci.truncated',
      message: expect.stringMatching(/cut off after 20 of \d+ bytes/),
    });
  });

  it('refuses an oversized answer declared in Content-Length without reading it', async () => {
    const client = await clientFor(serveManifest(Buffer.alloc(10_000, 0x20)), { maxManifestBytes: 4096 });
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({
      code: 'oci.too-large',
      message: expect.stringMatching(/over the limit of 4096/),
    });
  });

  it('stops reading an oversized chunked answer at the limit', async () => {
    let written = 0;
    const client = await clientFor(
      (req, res) => {
        res.writeHead(200, { 'content-type': MANIFEST_TYPE });
        const pump = (): void => {
          while (written < 50 * 1024 * 1024 && !res.destroyed) {
            written += 64 * 1024;
            if (!res.write(Buffer.alloc(64 * 1024, 0x20))) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      },
      { maxManifestBytes: 64 * 1024 },
    );
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({ code: 'oci.too-large' });
    expect(written).toBeLessThan(50 * 1024 * 1024);
  });

  it('refuses a blob longer than its descriptor', async () => {
    const client = await clientFor((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(100));
    });
    await expect(client.getBlob('acme/a', { digest: sha256Digest('x'), size: 10 })).rejects.toMatchObject({ code: 'oci.too-large' });
  });

  it('gives up on a registry that hangs, within the deadline', async () => {
    const client = await clientFor(
      () => {
        /* never answers */
      },
      { idleTimeoutMs: 60_000, deadlineMs: 300 },
    );
    const started = Date.now();
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({ code: 'oci.timeout', message: expect.stringMatching(/within 300 ms/) });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up on a registry that goes silent mid-body', async () => {
    const client = await clientFor(
      (req, res) => {
        res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'content-length': manifestBytes.byteLength });
        res.write(manifestBytes.subarray(0, 5));
      },
      { idleTimeoutMs: 200, deadlineMs: 30_000 },
    );
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({ code: 'oci.timeout', message: expect.stringMatching(/silent for 200 ms/) });
  });

  it('retries 5xx with back-off and then succeeds', async () => {
    let calls = 0;
    const client = await clientFor(
      (req, res) => {
        if (++calls < 3) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}');
        serveManifest(manifestBytes)(req, res);
      },
      { attempts: 3 },
    );
    expect(await resolveTag(client, 'acme/a', '1.0.0')).toBe(manifestDigest);
    expect(calls).toBe(3);
  });

  it('reports the last 5xx after the attempts run out, with the registry error text', async () => {
    const client = await clientFor(
      (req, res) => void res.writeHead(502, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"backend down"}]}'),
      { attempts: 2 },
    );
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({
      code: 'oci.registry-error',
      message: expect.stringMatching(/502.*UNAVAILABLE backend down/),
    });
    expect(fake!.requests).toHaveLength(2);
  });

  it('retries a timeout once and then names it', async () => {
    const client = await clientFor(() => {}, { attempts: 2, deadlineMs: 200 });
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({ code: 'oci.timeout' });
    expect(fake!.requests).toHaveLength(2);
  });

  it('follows the bearer token flow and caches the token per scope', async () => {
    let host = '';
    const client = await clientFor(
      (req, res) => {
        if (req.url?.startsWith('/token')) {
          const url = new URL(req.url, 'http://x');
          expect(url.searchParams.get('scope')).toBe('repository:acme/a:pull');
          expect(url.searchParams.get('service')).toBe('fake');
          expect(req.headers.authorization).toBe('Basic ' + Buffer.from('u:p').toString('base64'));
          return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"tok-123"}');
        }
        if (req.headers.authorization !== 'Bearer tok-123') {
          return void res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="fake",scope="repository:acme/a:pull"` }).end();
        }
        serveManifest(manifestBytes)(req, res);
      },
      { credentials: { username: 'u', password: 'p' } },
    );
    host = fake!.host;
    expect(await resolveTag(client, 'acme/a', '1.0.0')).toBe(manifestDigest);
    expect(await resolveTag(client, 'acme/a', '1.0.0')).toBe(manifestDigest);
    expect(fake!.requests.filter((r) => r.url.startsWith('/token'))).toHaveLength(1);
  });

  it('refuses a token answer without a token', async () => {
    let host = '';
    const client = await clientFor((req, res) => {
      if (req.url?.startsWith('/token')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"nothing":1}');
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="fake"` }).end();
    });
    host = fake!.host;
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({ code: 'oci.bad-response', message: expect.stringMatching(/no usable token/) });
  });

  it('does not send credentials to a plain-HTTP token realm on another host', async () => {
    const { Authenticator } = await import('../../oci/auth.js');
    const { Transport } = await import('../../oci/transport.js');
    const auth = new Authenticator(new Transport({ attempts: 1 }), { username: 'u', password: 'p' });
    await expect(
      auth.answer(
        { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://evil.example/token"' }, body: Buffer.alloc(0) },
        'repository:a:pull',
        'x',
        'https://r',
      ),
    ).rejects.toMatchObject({ code: 'oci.bad-response', message: expect.stringMatching(/not HTTPS/) });
  });

  it('refuses an upload Location on another origin', async () => {
    const client = await clientFor((req, res) => {
      if (req.method === 'HEAD') return void res.writeHead(404).end();
      if (req.method === 'POST') return void res.writeHead(202, { location: 'http://127.0.0.2:1/steal' }).end();
      res.writeHead(500).end();
    });
    await expect(client.pushBlob('acme/a', component)).rejects.toMatchObject({ code: 'oci.bad-response', message: expect.stringMatching(/another origin/) });
  });

  it('restarts a blob upload with a new session when the final PUT fails, and gives up after the attempts', async () => {
    let puts = 0;
    let sessions = 0;
    const client = await clientFor(
      (req, res) => {
        if (req.method === 'HEAD') return void res.writeHead(404).end();
        if (req.method === 'POST') return void res.writeHead(202, { location: `/v2/acme/a/blobs/uploads/s${++sessions}` }).end();
        if (req.method === 'PUT') return void res.writeHead(++puts === 1 ? 503 : 201).end();
        res.writeHead(500).end();
      },
      { attempts: 3 },
    );
    await client.pushBlob('acme/a', component);
    expect({ puts, sessions }).toEqual({ puts: 2, sessions: 2 });
    await fake!.close();

    const failing = await clientFor(
      (req, res) => {
        if (req.method === 'HEAD') return void res.writeHead(404).end();
        if (req.method === 'POST') return void res.writeHead(202, { location: '/v2/acme/a/blobs/uploads/x' }).end();
        res.writeHead(502).end();
      },
      { attempts: 2 },
    );
    await expect(failing.pushBlob('acme/a', component)).rejects.toMatchObject({
      code: 'oci.registry-error',
      message: expect.stringMatching(/502 for upload of blob/),
    });
    expect(fake!.requests.filter((r) => r.method === 'PUT')).toHaveLength(2);
  });

  it('fetches a fresh token when the cached one is refused (expired)', async () => {
    let host = '';
    let issued = 0;
    let current = '';
    const client = await clientFor((req, res) => {
      if (req.url?.startsWith('/token')) {
        current = `tok-${++issued}`;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: current }));
      }
      if (req.headers.authorization !== `Bearer ${current}`) {
        return void res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="fake"` }).end();
      }
      serveManifest(manifestBytes)(req, res);
    });
    host = fake!.host;
    expect(await resolveTag(client, 'acme/a', '1.0.0')).toBe(manifestDigest);
    current = 'rotated-by-the-registry'; // the cached tok-1 is now refused
    expect(await resolveTag(client, 'acme/a', '1.0.0')).toBe(manifestDigest);
    expect(issued).toBe(2);
  });

  it('follows a blob redirect to storage without sending the registry credentials there', async () => {
    const blob = Buffer.from('blob stored elsewhere');
    const storage = await startFakeRegistry((req, res) => void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(blob));
    try {
      const client = await clientFor(
        (req, res) => {
          if (req.headers.authorization !== 'Basic ' + Buffer.from('u:p').toString('base64')) {
            return void res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
          }
          res.writeHead(307, { location: `http://${storage.host}/bucket/x` }).end();
        },
        { credentials: { username: 'u', password: 'p' } },
      );
      const got = await client.getBlob('acme/a', { digest: sha256Digest(blob), size: blob.byteLength });
      expect(got.toString()).toBe('blob stored elsewhere');
      expect(storage.requests).toHaveLength(1);
      expect(storage.requests[0]!.authorization).toBeUndefined();
    } finally {
      await storage.close();
    }
  });

  it('reports an error answer with an endless body without reading it to the end', async () => {
    const client = await clientFor(
      (req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.write('{"errors":[{"code":"BROKEN","message":"x"}]}');
        const pump = (): void => {
          while (!res.destroyed && res.write(Buffer.alloc(64 * 1024, 0x20)));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      },
      { deadlineMs: 30_000 },
    );
    await expect(resolveTag(client, 'acme/a', '1.0.0')).rejects.toMatchObject({ code: 'oci.registry-error', message: expect.stringMatching(/answered 500/) });
  });
});
