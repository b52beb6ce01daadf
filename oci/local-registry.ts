import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's `docker-registry` (distribution 2.8) as a child process on 127.0.0.1 at a free
 * port, with filesystem storage in its own temp dir. Tests, benchmarks and demos use it; it is
 * not a production deployment (that is the operator's registry).
 */
export interface LocalRegistry {
  /** `host:port` as used in `oci://` references. */
  host: string;
  url: string;
  /** Storage root on disk (tests tamper with blobs behind the registry's back). */
  storageDir: string;
  /** Temp dir holding config and storage; removed by stop(). */
  dir: string;
  stop(): Promise<void>;
}

export interface LocalRegistryOptions {
  /** Extra top-level lines of config.yml (e.g. `auth:`) and `http:` sub-lines (e.g. `tls:`). */
  configLines?: string[];
  httpLines?: string[];
  tls?: boolean;
  /** An existing dir to use (its files are removed on stop). */
  dir?: string;
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

export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'berth-registry-')));
  const storageDir = join(dir, 'storage');
  const config = (port: number): string =>
    [
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
      `  addr: 127.0.0.1:${port}`,
      '  secret: berth-local-registry',
      ...(options.httpLines ?? []),
      ...(options.configLines ?? []),
    ].join('\n') + '\n';

  // The port is picked before the registry binds it; on the rare collision, try again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, config(port));
    const child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString();
    });
    child.on('error', (err) => {
      stderr += String(err);
    });
    if (!(await waitUntilReady(child, port, 10_000))) {
      await stopChild(child);
      if (/address already in use/.test(stderr)) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start (Debian package docker-registry): ${stderr.trim() || 'no output'}`);
    }
    return {
      host: `127.0.0.1:${port}`,
      url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
      storageDir,
      dir,
      stop: async () => {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error('docker-registry: no free port after 5 attempts');
}

/** Ready means the port accepts connections; the registry binds only after loading its config. */
async function waitUntilReady(child: ChildProcess, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await canConnect(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function canConnect(port: number): Promise<boolean> {
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
