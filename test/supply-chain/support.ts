import { readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { digestHex, type Digest } from '../../common/digest.js';
import { silentLogger } from '../../common/logger.js';
import { pushComponent, type AttachedBundle } from '../../oci/artifact.js';
import { RegistryClient, type RegistryClientOptions } from '../../oci/client.js';
import { createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { serializeBundle, signComponent } from '../../trust/signing/sign.js';
import { fixturePath } from '../fixtures/build.js';
import { call, type Answer, type Harness } from '../orchestrator/harness.js';
import type { TestRegistry } from '../support/registry.js';

/** Real components (built at test time): `hello` imports berth:host/log. */
export const hello = (): Uint8Array => new Uint8Array(readFileSync(fixturePath('hello')));

/** A regular expression matching exactly this text. */
export const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const signature = (component: Uint8Array, key: KeyObject): AttachedBundle => ({
  kind: 'message-signature',
  bytes: serializeBundle(signComponent(component, key)),
});

export function clientOptions(registry: TestRegistry): RegistryClientOptions {
  const o: RegistryClientOptions = registry.caPem ? { ca: registry.caPem } : { plainHttp: true };
  if (registry.credentials) o.credentials = registry.credentials;
  return o;
}

export async function push(registry: TestRegistry, repository: string, tag: string, component: Uint8Array, bundles: AttachedBundle[]) {
  return pushComponent(new RegistryClient(registry.host, clientOptions(registry)), repository, tag, component, bundles);
}

/** Overwrites a blob in the registry's storage, behind its back (what a compromised registry does). */
export async function swapBlob(registry: TestRegistry, digest: Digest, bytes: Uint8Array): Promise<void> {
  const hex = digestHex(digest);
  const dir = join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex);
  if (!(await readdir(dir)).includes('data')) throw new Error(`test setup: no blob ${digest} in the registry`);
  await writeFile(join(dir, 'data'), bytes);
}

export function flipped(bytes: Uint8Array, at = 20): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}

export type Caller = (method: string, path: string, body?: unknown) => Promise<Answer>;

export async function vendorCaller(h: Harness, vendor: string): Promise<Caller> {
  const { token } = await createOperatorToken(h.cp.deps.store, silentLogger, { name: `${vendor} pipeline`, role: `vendor:${vendor}`, by: 'test' });
  return (method, path, body) =>
    call(h.cp.url + path, { method, ca: h.ca, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { json: body }) });
}

/** Registers `name` with `policy` and an app `app` of that vendor. */
export async function addVendor(h: Harness, name: string, policy: Record<string, unknown>, app: string): Promise<Caller> {
  const v = await h.admin('POST', '/api/v1/catalog/vendors', { name, trustPolicy: policy });
  if (v.status !== 201) throw new Error(`test setup: vendor ${name}: ${JSON.stringify(v.body)}`);
  const a = await h.admin('POST', '/api/v1/catalog/apps', { id: app, vendor: name });
  if (a.status !== 201) throw new Error(`test setup: app ${app}: ${JSON.stringify(a.body)}`);
  return vendorCaller(h, name);
}

export const register = (as: Caller, app: string, version: string, reference: string) =>
  as('POST', `/api/v1/catalog/apps/${app}/versions`, { version, component: { reference } });

/** A refusal: the status, the reason's code, and the field it names. */
export function refusal(a: Answer): { status: number; code: string; field: string | undefined; detail: string } {
  return { status: a.status, code: a.body?.code, field: a.body?.errors?.[0]?.field, detail: a.body?.detail };
}

/** The same component with a custom section appended: other bytes, other digest, same imports. */
export function variant(component: Uint8Array, label: string): Uint8Array {
  const name = Buffer.from('berth-test');
  const payload = Buffer.from(label);
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  if (body.length > 127) throw new Error('test setup: label too long');
  return new Uint8Array(Buffer.concat([component, Buffer.from([0x00, body.length]), body]));
}
