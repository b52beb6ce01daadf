import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../common/paths.js';
import { pullComponent, pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { startRegistryServer } from '../../oci/server/serve.js';
import { registryCommandOptions } from '../../cli/registry.js';
import { createTestCa } from '../support/registry-ca.js';
import { suiteTempDir } from '../support/tmp.js';

const component = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 42]);

describe('berth registry options', () => {
  const dir = suiteTempDir('registry-cli');

  it('refuses what would expose an anonymous registry, and bad flags', () => {
    const refused = (argv: string[], message: RegExp) =>
      expect(() => registryCommandOptions(argv)).toThrow(expect.objectContaining({ code: 'cli.usage', message: expect.stringMatching(message) }));
    refused([], /--dir/);
    refused(['--dir', dir, '--host', '0.0.0.0'], /plain HTTP is for loopback only/);
    writeFileSync(join(dir, 'c.pem'), 'x');
    refused(['--dir', dir, '--host', '0.0.0.0', '--cert', join(dir, 'c.pem'), '--key', join(dir, 'c.pem')], /must be --read-only/);
    refused(['--dir', dir, '--cert', join(dir, 'c.pem')], /--cert and --key go together/);
    refused(['--dir', dir, '--port', '70000'], /--port/);
    refused(['--dir', dir, '--max-blob-mib', '0'], /--max-blob-mib/);
    expect(() => registryCommandOptions(['--dir', dir, '--cert', join(dir, 'none.pem'), '--key', join(dir, 'none.pem')])).toThrow(
      expect.objectContaining({ code: 'cli.bad-file' }),
    );
    expect(registryCommandOptions(['--dir', dir, '--host', '0.0.0.0', '--cert', join(dir, 'c.pem'), '--key', join(dir, 'c.pem'), '--read-only'])).toMatchObject(
      { readOnly: true, host: '0.0.0.0' },
    );
  });

  it('serves HTTPS with the given certificate, and the client verifies it against the CA', async () => {
    const ca = await createTestCa();
    const { certPem, keyPem } = await ca.issueServerCertificate(['127.0.0.1']);
    const server = await startRegistryServer({ dir: join(dir, 'tls'), tls: { cert: certPem, key: keyPem } });
    try {
      expect(server.url).toMatch(/^https:/);
      const client = new RegistryClient(server.host, { ca: ca.certPem, attempts: 1 });
      const pushed = await pushComponent(client, 'acme/tls', '1.0.0', component, []);
      expect((await pullComponent(client, 'acme/tls', pushed.manifestDigest)).componentDigest).toBe(pushed.componentDigest);
      await expect(pullComponent(new RegistryClient(server.host, { attempts: 1 }), 'acme/tls', pushed.manifestDigest)).rejects.toMatchObject({
        code: 'oci.tls',
      });
    } finally {
      await server.close();
    }
  });
});

describe('berth registry (the command, from dist/)', () => {
  const dir = suiteTempDir('registry-cmd');
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('listens on loopback, takes a push, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'berth.js'), 'registry', '--dir', dir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 20 s: ${out}`)), 20_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`berth registry exited with ${code}: ${out}`)));
    });
    const client = new RegistryClient(new URL(url).host, { plainHttp: true, attempts: 1 });
    const pushed = await pushComponent(client, 'acme/cli', '1.0.0', component, []);
    expect((await pullComponent(client, 'acme/cli', pushed.manifestDigest)).componentDigest).toBe(pushed.componentDigest);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
