import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialFrom } from '../../runtime/agent/onboarding.js';
import { parseAgentConfig } from '../../runtime/agent/config.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'berth-agent-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function berth(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(ROOT, 'bin/berth.js'), ...args], { cwd: ROOT, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('berth device', () => {
  it('prints its usage, and needs --config', async () => {
    const help = await berth('device', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('berth device start --config <file>');
    const missing = await berth('device', 'start');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('needs --config');
  });

  it('refuses a bad configuration file naming each bad field, before touching anything', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'controlPlane:\n  url: ftp://cp\n  ca: ca.pem\ndataDir: data\ngateway:\n  port: -1\n');
    const r = await berth('device', 'start', '--config', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/controlPlane\.url/);
    expect(r.stderr).toMatch(/gateway\.port/);
  });

  it('says which file is missing: the fleet CA, or an onboarding credential', async () => {
    const file = join(dir, 'noca.json');
    writeFileSync(file, JSON.stringify({ controlPlane: { url: 'https://127.0.0.1:1', ca: 'nowhere.pem' }, dataDir: join(dir, 'data') }));
    const r = await berth('device', 'start', '--config', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('controlPlane.ca: cannot read');
    const config = parseAgentConfig(
      { controlPlane: { url: 'https://cp', ca: 'ca.pem' }, dataDir: 'd', onboarding: { credential: { kind: 'token-file', file: 'missing-token' } } },
      dir,
    );
    await expect(credentialFrom(config)).rejects.toThrow(/cannot read the enrollment token file .*missing-token/);
    writeFileSync(join(dir, 'not-pem'), 'hello');
    const factory = parseAgentConfig(
      {
        controlPlane: { url: 'https://cp', ca: 'ca.pem' },
        dataDir: 'd',
        onboarding: { credential: { kind: 'factory-certificate', certificates: 'not-pem', key: 'not-pem' } },
      },
      dir,
    );
    await expect(credentialFrom(factory)).rejects.toThrow(/holds no PEM certificate/);
    const none = parseAgentConfig({ controlPlane: { url: 'https://cp', ca: 'ca.pem' }, dataDir: 'd' }, dir);
    await expect(credentialFrom(none)).rejects.toMatchObject({ code: 'agent.not_onboarded' });
  });

  it('does not onboard a machine whose id it cannot read (the identity could never be bound)', async () => {
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
    const file = join(dir, 'nomachine.json');
    const dataDir = join(dir, 'nomachine-data');
    writeFileSync(
      file,
      JSON.stringify({
        controlPlane: { url: 'https://127.0.0.1:1', ca: 'ca.pem' },
        dataDir,
        onboarding: { credential: { kind: 'token', token: 't' } },
        nodeLock: { machineIdFile: 'no-such-machine-id' },
      }),
    );
    const r = await berth('device', 'start', '--config', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/machine id .*no-such-machine-id|no-such-machine-id is missing/);
    expect(existsSync(join(dataDir, 'identity', 'identity.json'))).toBe(false);
  });
});
