import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { createTestCa, type TestCa } from './registry-ca.js';

/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 at a
 * free port, filesystem storage in its own temp dir, optionally behind htpasswd basic auth and
 * TLS from a private CA made for this registry alone.
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
}

const REGISTRY_BIN = process.env.BERTH_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  const storageDir = join(dir, 'storage');
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    '  addr: 127.0.0.1:PORT',
    '  secret: berth-test-registry-secret',
  ];
  let ca: TestCa | undefined;
  if (options.tls) {
    ca = await createTestCa();
    const { certPem, keyPem } = await ca.issueServerCertificate(['127.0.0.1', 'localhost']);
    await writeFile(join(dir, 'tls.crt'), certPem);
    await writeFile(join(dir, 'tls.key'), keyPem, { mode: 0o600 });
    lines.push('  tls:', `    certificate: ${join(dir, 'tls.crt')}`, `    key: ${join(dir, 'tls.key')}`);
  }
  if (options.basicAuth) {
    const hash = bcrypt.hashSync(options.basicAuth.password, 6);
    await writeFile(join(dir, 'htpasswd'), `${options.basicAuth.username}:${hash}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${join(dir, 'htpasswd')}`);
  }

  // The port is picked before the registry binds it; on the rare collision, try again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, lines.join('\n').replace('PORT', String(port)) + '\n');
    const child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString();
    });
    const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    const ready = await waitUntilReady(child, port, 10_000);
    if (!ready) {
      await stopChild(child);
      if (/address already in use/.test(stderr)) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${stderr.trim() || 'no output'}`);
    }
    const registry: TestRegistry = {
      host: `127.0.0.1:${port}`,
      url,
      storageDir,
      stop: async () => {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
    if (ca) registry.caPem = ca.certPem;
    if (options.basicAuth) registry.credentials = options.basicAuth;
    return registry;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error('docker-registry: no free port after 5 attempts');
}

/** Ready means the port accepts TCP connections; the registry binds only after loading config. */
async function waitUntilReady(child: ChildProcess, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await canConnect(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
