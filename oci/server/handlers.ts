import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { Digest } from '../../common/digest.js';
import { MEDIA_TYPE } from '../media-types.js';
import { contentLength, readBounded } from './body.js';
import { DistributionError, refuse } from './errors.js';
import { checkDigest, checkReference, checkRepository, isTag } from './names.js';
import type { RegistryStorage } from './storage.js';
import type { UploadSession, Uploads } from './uploads.js';

/** What every handler works with. `uploads` is absent in read-only mode. */
export interface RegistryContext {
  storage: RegistryStorage;
  uploads?: Uploads;
}

const MAX_TAGS_PAGE = 1000;

async function knownRepository(ctx: RegistryContext, name: string): Promise<void> {
  if (!(await ctx.storage.hasRepository(name))) throw refuse.nameUnknown(name);
}

function isHead(c: Context): boolean {
  // Hono answers HEAD with the GET handler; the raw method says which one it was.
  return c.req.raw.method === 'HEAD';
}

export async function getManifest(c: Context, ctx: RegistryContext, name: string, reference: string): Promise<Response> {
  checkReference(reference);
  await knownRepository(ctx, name);
  const found = await ctx.storage.manifest(name, reference);
  if (!found) throw refuse.manifestUnknown(reference);
  const headers = { 'content-type': found.mediaType, 'docker-content-digest': found.digest, 'content-length': String(found.bytes.byteLength) };
  return isHead(c) ? c.body(null, 200, headers) : c.body(new Uint8Array(found.bytes), 200, headers);
}

export async function putManifest(c: Context, ctx: RegistryContext, name: string, reference: string): Promise<Response> {
  checkRepository(name);
  checkReference(reference);
  const bytes = await readBounded(c.req.raw.body, contentLength(c.req.header('content-length')), ctx.storage.maxManifestBytes, 'manifest');
  const stored = await ctx.storage.putManifest(name, reference, bytes, c.req.header('content-type'));
  const headers: Record<string, string> = { location: `/v2/${name}/manifests/${stored.digest}`, 'docker-content-digest': stored.digest };
  if (stored.subject) headers['oci-subject'] = stored.subject;
  return c.body(null, 201, headers);
}

export async function getBlob(c: Context, ctx: RegistryContext, name: string, digestText: string): Promise<Response> {
  const digest = checkDigest(digestText);
  await knownRepository(ctx, name);
  const blob = await ctx.storage.blob(name, digest);
  if (!blob) throw refuse.blobUnknown(digest);
  const base = { 'content-type': 'application/octet-stream', 'docker-content-digest': digest };
  if (isHead(c)) return c.body(null, 200, { ...base, 'content-length': String(blob.size) });
  // Size from the open file, so the length sent matches the bytes streamed. The bytes are not
  // re-hashed here: the client checks every digest (and a swapped file is its to catch).
  const handle = await open(blob.path, 'r').catch(() => undefined);
  if (!handle) throw refuse.blobUnknown(digest);
  const size = await handle.stat().then(
    (st) => st.size,
    async (err: unknown) => {
      await handle.close();
      throw err;
    },
  );
  const stream = Readable.toWeb(createReadStream(blob.path, { fd: handle })) as unknown as ReadableStream<Uint8Array>;
  return c.body(stream, 200, { ...base, 'content-length': String(size) });
}

function uploadHeaders(name: string, session: UploadSession): Record<string, string> {
  return { location: `/v2/${name}/blobs/uploads/${session.id}`, 'docker-upload-uuid': session.id, range: `0-${Math.max(0, session.size - 1)}` };
}

function writable(ctx: RegistryContext): Uploads {
  if (!ctx.uploads) throw refuse.readOnly();
  return ctx.uploads;
}

function blobCreated(c: Context, name: string, digest: Digest): Response {
  return c.body(null, 201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
}

/** POST: a cross-repository mount, a monolithic upload (`?digest=`), or a new session. */
export async function startUpload(c: Context, ctx: RegistryContext, name: string): Promise<Response> {
  const uploads = writable(ctx);
  checkRepository(name);
  const mount = c.req.query('mount');
  const from = c.req.query('from');
  if (mount !== undefined && from !== undefined && (await ctx.storage.mountBlob(name, from, checkDigest(mount, 'mount'))))
    return blobCreated(c, name, mount as Digest);
  const digestText = c.req.query('digest');
  const length = contentLength(c.req.header('content-length'));
  if (digestText !== undefined) {
    const digest = checkDigest(digestText);
    const session = await uploads.start(name);
    await uploads.finish(session, digest, c.req.raw.body, length);
    return blobCreated(c, name, digest);
  }
  if (length) throw refuse.uploadInvalid('a POST without ?digest= opens a session and takes no body; send the bytes with PATCH or PUT');
  return c.body(null, 202, uploadHeaders(name, await uploads.start(name)));
}

export async function continueUpload(c: Context, ctx: RegistryContext, name: string, id: string): Promise<Response> {
  const uploads = writable(ctx);
  checkRepository(name);
  const session = uploads.find(name, id);
  const length = contentLength(c.req.header('content-length'));
  switch (c.req.raw.method) {
    case 'PATCH':
      await uploads.append(session, c.req.raw.body, c.req.header('content-range'), length);
      return c.body(null, 202, uploadHeaders(name, session));
    case 'PUT': {
      const digest = checkDigest(c.req.query('digest'), 'the ?digest= of the closing PUT');
      await uploads.finish(session, digest, c.req.raw.body, length);
      return blobCreated(c, name, digest);
    }
    case 'DELETE':
      await uploads.cancel(session);
      return c.body(null, 204);
    default:
      return c.body(null, 204, uploadHeaders(name, session));
  }
}

export async function listTags(c: Context, ctx: RegistryContext, name: string): Promise<Response> {
  checkRepository(name);
  const all = await ctx.storage.tags(name);
  if (!all) throw refuse.nameUnknown(name);
  const nText = c.req.query('n');
  const last = c.req.query('last');
  if (nText !== undefined && !/^\d{1,6}$/.test(nText)) throw new DistributionError(400, 'UNSUPPORTED', `?n='${nText.slice(0, 20)}' is not a count`);
  if (last !== undefined && !isTag(last)) throw new DistributionError(400, 'UNSUPPORTED', '?last= is not a tag');
  const n = Math.min(nText === undefined ? MAX_TAGS_PAGE : Number(nText), MAX_TAGS_PAGE);
  const after = last === undefined ? all : all.filter((t) => t > last);
  const page = after.slice(0, n);
  const headers: Record<string, string> = {};
  if (after.length > page.length && page.length > 0) headers.link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page.at(-1)!)}>; rel="next"`;
  return c.json({ name, tags: page }, 200, headers);
}

export async function listReferrers(c: Context, ctx: RegistryContext, name: string, subjectText: string): Promise<Response> {
  const subject = checkDigest(subjectText);
  await knownRepository(ctx, name);
  const artifactType = c.req.query('artifactType');
  const manifests = await ctx.storage.referrers(name, subject, artifactType);
  const headers: Record<string, string> = { 'content-type': MEDIA_TYPE.imageIndex };
  if (artifactType !== undefined) headers['oci-filters-applied'] = 'artifactType';
  return c.body(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.imageIndex, manifests }), 200, headers);
}
