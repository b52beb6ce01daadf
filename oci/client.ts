import { sha256Digest, type Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';
import { Authenticator, type Credentials } from './auth.js';
import { descriptorSchema, imageIndexSchema, parseJson, type Descriptor, type ImageIndex } from './manifest.js';
import { MEDIA_TYPE } from './media-types.js';
import { uploadSession } from './upload.js';
import { backoff, header, isRetryable, sleep, statusError, Transport, type HttpRequest, type HttpResponse, type TransportOptions } from './transport.js';

export interface RegistryClientOptions extends TransportOptions {
  credentials?: Credentials;
  /** Speak plain HTTP (a loopback test registry); HTTPS otherwise. */
  plainHttp?: boolean;
  /** Largest manifest or index accepted (default 4 MiB, the distribution reference limit). */
  maxManifestBytes?: number;
  /** Largest blob accepted (default 512 MiB). */
  maxBlobBytes?: number;
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default 16 MiB). */
  uploadChunkBytes?: number;
}

export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

export type Progress = (done: number, total: number | undefined) => void;

/**
 * A small client for the OCI distribution spec (pull and push of manifests and blobs, tag
 * resolution, referrers). Every answer is hostile input: media types, sizes and digests are
 * checked against what was asked for before anything is returned.
 */
export class RegistryClient {
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  readonly base: string;
  private readonly maxManifest: number;
  private readonly maxBlob: number;
  private readonly attempts: number;
  private readonly chunkBytes: number;
  private readonly backoffMs: number;

  constructor(
    readonly registry: string,
    options: RegistryClientOptions = {},
  ) {
    this.transport = new Transport(options);
    this.auth = new Authenticator(this.transport, options.credentials, options.plainHttp === true);
    this.base = `${options.plainHttp ? 'http' : 'https'}://${registry}`;
    this.maxManifest = options.maxManifestBytes ?? 4 * 1024 * 1024;
    this.maxBlob = options.maxBlobBytes ?? 512 * 1024 * 1024;
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.chunkBytes = Math.max(64 * 1024, options.uploadChunkBytes ?? 16 * 1024 * 1024);
    this.backoffMs = options.backoffMs ?? 200;
  }

  /** GET a manifest by tag or digest, accepting only `accept` media types. */
  async getManifest(repository: string, reference: string, accept: readonly string[]): Promise<FetchedManifest> {
    const what = `manifest ${repository}:${reference}`;
    const res = await this.exchange(repository, 'pull', {
      method: 'GET',
      url: `${this.base}/v2/${repository}/manifests/${reference}`,
      headers: { accept: accept.join(', ') },
      maxBytes: this.maxManifest,
      what,
    });
    if (res.status !== 200) throw statusError({ what, url: this.base }, res);
    const mediaType = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
    if (!accept.includes(mediaType)) {
      throw new BerthError(
        'oci.wrong-media-type',
        `registry served ${what} as '${mediaType.slice(0, 100) || 'no media type'}', expected ${accept.join(' or ')}`,
      );
    }
    const digest = sha256Digest(res.body);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new BerthError('oci.digest-mismatch', `registry served ${what} whose bytes hash to ${digest}`, { expected: reference, actual: digest });
    }
    const claimed = header(res, 'docker-content-digest');
    if (claimed !== undefined && claimed !== digest) {
      throw new BerthError('oci.digest-mismatch', `registry claims ${what} is ${claimed.slice(0, 80)} but its bytes hash to ${digest}`);
    }
    // The media type inside must agree with the one on the wire (a confused-type attack otherwise).
    const inner = (parseJson(res.body, descriptorMediaType, what) as { mediaType?: string }).mediaType;
    if (inner !== mediaType) {
      throw new BerthError('oci.wrong-media-type', `${what} says it is '${String(inner).slice(0, 100)}' but was served as '${mediaType}'`);
    }
    return { digest, mediaType, bytes: res.body };
  }

  /** PUT a manifest under a tag or its digest; returns the digest and any `OCI-Subject` answer. */
  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<{ digest: Digest; subject?: string }> {
    const what = `manifest ${repository}:${reference}`;
    const digest = sha256Digest(bytes);
    const res = await this.exchange(repository, 'push', {
      method: 'PUT',
      url: `${this.base}/v2/${repository}/manifests/${reference}`,
      headers: { 'content-type': mediaType },
      body: bytes,
      maxBytes: 64 * 1024,
      what,
    });
    if (res.status !== 201) throw statusError({ what, url: this.base }, res);
    const claimed = header(res, 'docker-content-digest');
    if (claimed !== undefined && claimed !== digest) {
      throw new BerthError('oci.digest-mismatch', `registry stored ${what} as ${claimed.slice(0, 80)}, expected ${digest}`);
    }
    const subject = header(res, 'oci-subject');
    return subject !== undefined ? { digest, subject } : { digest };
  }

  async blobExists(repository: string, digest: Digest): Promise<boolean> {
    const what = `blob ${digest}`;
    const res = await this.exchange(repository, 'pull', { method: 'HEAD', url: `${this.base}/v2/${repository}/blobs/${digest}`, maxBytes: 0, what });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw statusError({ what, url: this.base }, res);
  }

  /** GET a blob and check its size and digest against the descriptor before returning it. */
  async getBlob(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>, maxBytes = this.maxBlob, onProgress?: Progress): Promise<Buffer> {
    const what = `blob ${descriptor.digest}`;
    if (descriptor.size > maxBytes) {
      throw new BerthError('oci.too-large', `${what} is declared as ${descriptor.size} bytes, over the limit of ${maxBytes}`);
    }
    let url = `${this.base}/v2/${repository}/blobs/${descriptor.digest}`;
    let res: HttpResponse | undefined;
    for (let hop = 0; hop < 4; hop++) {
      const req: HttpRequest = { method: 'GET', url, maxBytes: descriptor.size, what };
      if (onProgress) req.onBytes = onProgress;
      // Credentials go only to the registry itself, never to a storage backend it redirects to.
      res = new URL(url).origin === this.base ? await this.exchange(repository, 'pull', req) : await this.transport.send(req);
      const location = header(res, 'location');
      if (![301, 302, 303, 307, 308].includes(res.status) || !location) break;
      url = new URL(location, url).toString();
      if (!/^https?:$/.test(new URL(url).protocol)) throw new BerthError('oci.bad-response', `registry redirected ${what} to a non-HTTP location`);
    }
    if (!res || res.status !== 200) throw statusError({ what, url }, res ?? { status: 0, headers: {}, body: Buffer.alloc(0) });
    if (res.body.byteLength !== descriptor.size) {
      throw new BerthError('oci.size-mismatch', `registry served ${what} with ${res.body.byteLength} bytes, the manifest says ${descriptor.size}`);
    }
    const actual = sha256Digest(res.body);
    if (actual !== descriptor.digest) {
      throw new BerthError('oci.digest-mismatch', `registry served ${what} whose bytes hash to ${actual}`, { expected: descriptor.digest, actual });
    }
    return res.body;
  }

  /** Upload (monolithic, or chunked above `uploadChunkBytes`), skipped when the registry already has the blob. */
  async pushBlob(repository: string, bytes: Uint8Array, onProgress?: Progress): Promise<Descriptor['digest']> {
    const digest = sha256Digest(bytes);
    if (await this.blobExists(repository, digest)) {
      onProgress?.(bytes.byteLength, bytes.byteLength);
      return digest;
    }
    // An upload session cannot be resumed blindly after a failed PUT: start a new one instead.
    for (let attempt = 1; ; attempt++) {
      try {
        await uploadSession((req) => this.exchange(repository, 'push', req), this.base, repository, bytes, digest, this.chunkBytes, onProgress);
        return digest;
      } catch (err) {
        if (attempt >= this.attempts || !isRetryable(err)) throw err;
        await sleep(backoff(this.backoffMs, attempt + 1));
      }
    }
  }

  /**
   * Manifests that name `subject`: the referrers API where the registry has it, else the
   * referrers tag schema (`sha256-<hex>` holding an index). Null when neither has any.
   */
  async getReferrers(repository: string, subject: Digest): Promise<{ index: ImageIndex; via: 'api' | 'tag' } | null> {
    const what = `referrers of ${subject}`;
    const res = await this.exchange(repository, 'pull', {
      method: 'GET',
      url: `${this.base}/v2/${repository}/referrers/${subject}`,
      headers: { accept: MEDIA_TYPE.imageIndex },
      maxBytes: this.maxManifest,
      what,
    });
    if (res.status === 200 && (header(res, 'content-type') ?? '').split(';')[0]!.trim() === MEDIA_TYPE.imageIndex) {
      return { index: parseJson(res.body, imageIndexSchema, what), via: 'api' };
    }
    if (res.status !== 404 && res.status !== 200) throw statusError({ what, url: this.base }, res);
    try {
      const tagged = await this.getManifest(repository, referrersTag(subject), [MEDIA_TYPE.imageIndex]);
      return { index: parseJson(tagged.bytes, imageIndexSchema, `referrers index of ${subject}`), via: 'tag' };
    } catch (err) {
      if (err instanceof BerthError && err.code === 'oci.not-found') return null;
      throw err;
    }
  }

  /** Sends with the right credentials for the repository, answering one auth challenge. */
  private async exchange(repository: string, action: 'pull' | 'push', req: HttpRequest): Promise<HttpResponse> {
    const scope = `repository:${repository}:${action === 'push' ? 'pull,push' : 'pull'}`;
    for (let round = 0; round < 2; round++) {
      const authorization = this.auth.headerFor(scope);
      const res = await this.transport.send({ ...req, headers: { ...(req.headers ?? {}), ...(authorization ? { authorization } : {}) } });
      if (res.status !== 401) return res;
      if (round === 1) break;
      await this.auth.answer(res, scope, req.what, req.url);
    }
    throw new BerthError('oci.unauthorized', `registry refused the credentials for ${req.what}`);
  }
}

const descriptorMediaType = descriptorSchema.pick({ mediaType: true }).partial().passthrough();

/** The referrers tag schema: `sha256:<hex>` → `sha256-<hex>`. */
export function referrersTag(subject: Digest): string {
  return subject.replace(':', '-');
}
