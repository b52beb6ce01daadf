import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startLocalRegistry } from '../../oci/local-registry.js';
import { createTestCa } from './registry-ca.js';

export { freePort } from '../../oci/local-registry.js';

/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 at a
 * free port, filesystem storage in its own temp dir, optionally behind htpasswd basic auth
 * (bcrypt via bcryptjs, so apache2-utils is not needed) and TLS from a private CA made for this
 * registry alone.
 */
export interface TestRegistry {
  /** `host:port` as used in `oci://` references. */
  host: string;
  /** Base URL, `http://…` or `https://…`. */
  url: string;
  /** Storage root on disk, so tests can tamper with blobs behind the registry's back. */
  storageDir: string;
  /** PEM of the CA that issued the registry's certificate (TLS only). */
  caPem?: string;
  credentials?: { username: string; password: string };
  stop(): Promise<void>;
}

export interface TestRegistryOptions {
  basicAuth?: { username: string; password: string };
  tls?: boolean;
  /** Distribution token auth: the registry trusts JWTs chaining to `rootCertPem`. */
  tokenAuth?: { realm: string; service: string; issuer: string; rootCertPem: string };
}

export async function startRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  const httpLines: string[] = [];
  const configLines: string[] = [];
  let caPem: string | undefined;
  if (options.tls) {
    const ca = await createTestCa();
    caPem = ca.certPem;
    const { certPem, keyPem } = await ca.issueServerCertificate(['127.0.0.1', 'localhost']);
    await writeFile(join(dir, 'tls.crt'), certPem);
    await writeFile(join(dir, 'tls.key'), keyPem, { mode: 0o600 });
    httpLines.push('  tls:', `    certificate: ${join(dir, 'tls.crt')}`, `    key: ${join(dir, 'tls.key')}`);
  }
  if (options.basicAuth) {
    const hash = bcrypt.hashSync(options.basicAuth.password, 6);
    await writeFile(join(dir, 'htpasswd'), `${options.basicAuth.username}:${hash}\n`);
    configLines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  if (options.tokenAuth) {
    await writeFile(join(dir, 'token-root.pem'), options.tokenAuth.rootCertPem);
    configLines.push(
      'auth:',
      '  token:',
      `    realm: ${options.tokenAuth.realm}`,
      `    service: ${options.tokenAuth.service}`,
      `    issuer: ${options.tokenAuth.issuer}`,
      `    rootcertbundle: ${join(dir, 'token-root.pem')}`,
    );
  }
  const local = await startLocalRegistry({ dir, httpLines, configLines, tls: options.tls === true });
  const registry: TestRegistry = { host: local.host, url: local.url, storageDir: local.storageDir, stop: local.stop };
  if (caPem) registry.caPem = caPem;
  if (options.basicAuth) registry.credentials = options.basicAuth;
  return registry;
}
