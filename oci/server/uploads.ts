import { randomUUID } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import type { Digest } from '../../common/digest.js';
import { DistributionError, refuse } from './errors.js';
import { isUploadId } from './names.js';
import type { RegistryStorage } from './storage.js';

export interface UploadLimits {
  /** Largest blob accepted (all chunks together). */
  maxBlobBytes: number;
  /** Open sessions at once; more is 429 (each holds a temp file). */
  maxSessions: number;
  /** A session untouched this long is dropped. */
  ttlMs: number;
}

export interface UploadSession {
  readonly id: string;
  readonly repository: string;
  readonly path: string;
  size: number;
  touchedAt: number;
  busy: boolean;
}

/**
 * Blob upload sessions (distribution spec "pushing blobs"): bytes are appended to a temp file in
 * the store's _tmp, chunk by chunk in order, and the file becomes a blob only when the closing
 * PUT's digest matches (RegistryStorage.adoptBlob). Sessions live in memory: a restart forgets
 * them and the client starts over, which the spec allows. A failed chunk ends its session.
 */
export class Uploads {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    private readonly storage: RegistryStorage,
    private readonly limits: UploadLimits,
  ) {}

  async start(repository: string): Promise<UploadSession> {
    await this.sweep();
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new DistributionError(429, 'TOOMANYREQUESTS', `${this.limits.maxSessions} uploads are open; finish or cancel one first`);
    }
    const session: UploadSession = { id: randomUUID(), repository, path: this.storage.tempPath(), size: 0, touchedAt: Date.now(), busy: false };
    await writeFile(session.path, '', { mode: 0o600 });
    this.sessions.set(session.id, session);
    return session;
  }

  /** The session `id` of `repository`; a session opened for another repository is unknown here. */
  find(repository: string, id: string): UploadSession {
    const session = isUploadId(id) ? this.sessions.get(id) : undefined;
    if (!session || session.repository !== repository) throw refuse.uploadUnknown();
    return session;
  }

  /** PATCH: appends one chunk; `Content-Range` (when sent) must start where the last one ended. */
  async append(
    session: UploadSession,
    body: ReadableStream<Uint8Array> | null,
    contentRange: string | undefined,
    contentLength: number | undefined,
  ): Promise<void> {
    let expected: number | undefined;
    if (contentRange !== undefined) {
      const m = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})$/.exec(contentRange.trim());
      if (!m) throw refuse.uploadInvalid(`Content-Range '${contentRange.slice(0, 60)}' is not <start>-<end>`);
      const [start, end] = [Number(m[1]), Number(m[2])];
      if (start !== session.size || end < start) {
        throw refuse.uploadInvalid(`chunk ${start}-${end} does not continue the upload, which has ${session.size} bytes`, 416);
      }
      expected = end - start + 1;
      if (contentLength !== undefined && contentLength !== expected)
        throw refuse.uploadInvalid(`Content-Range ${start}-${end} and Content-Length ${contentLength} disagree`);
    }
    await this.write(session, body, contentLength, expected);
  }

  /** PUT ?digest=: the last bytes (if any), then the digest check that makes it a blob. */
  async finish(session: UploadSession, digest: Digest, body: ReadableStream<Uint8Array> | null, contentLength: number | undefined): Promise<number> {
    await this.write(session, body, contentLength, undefined);
    this.sessions.delete(session.id);
    return this.storage.adoptBlob(session.repository, session.path, digest);
  }

  async cancel(session: UploadSession): Promise<void> {
    this.sessions.delete(session.id);
    await rm(session.path, { force: true });
  }

  private async write(
    session: UploadSession,
    body: ReadableStream<Uint8Array> | null,
    contentLength: number | undefined,
    expected: number | undefined,
  ): Promise<void> {
    if (session.busy) throw refuse.uploadInvalid('another request is writing to this upload session');
    session.busy = true;
    try {
      const room = this.limits.maxBlobBytes - session.size;
      if (contentLength !== undefined && contentLength > room) throw refuse.tooLarge('blob', this.limits.maxBlobBytes);
      const written = await appendStream(session.path, body, room, this.limits.maxBlobBytes);
      if (expected !== undefined && written !== expected)
        throw new DistributionError(400, 'SIZE_INVALID', `the chunk has ${written} bytes; Content-Range announced ${expected}`);
      if (contentLength !== undefined && written !== contentLength)
        throw new DistributionError(400, 'SIZE_INVALID', `the body has ${written} bytes; Content-Length announced ${contentLength}`);
      session.size += written;
      session.touchedAt = Date.now();
    } catch (err) {
      await this.cancel(session);
      throw err;
    } finally {
      session.busy = false;
    }
  }

  private async sweep(): Promise<void> {
    const cutoff = Date.now() - this.limits.ttlMs;
    for (const s of [...this.sessions.values()]) if (s.touchedAt < cutoff && !s.busy) await this.cancel(s);
  }
}

/** Streams a request body onto the end of a file, refusing more than `room` bytes. */
async function appendStream(path: string, body: ReadableStream<Uint8Array> | null, room: number, limit: number): Promise<number> {
  if (!body) return 0;
  const file = await open(path, 'a');
  const reader = body.getReader();
  let written = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      written += value.byteLength;
      if (written > room) throw refuse.tooLarge('blob', limit);
      await file.write(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  } finally {
    await file.close();
  }
  return written;
}
