import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistryConfig } from '../../orchestrator/catalog/registry-config.js';

// `berth orchestrator start --registry-config <file>`: how admission reaches registries.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-registry-config-'));
  await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  await writeFile(join(dir, 'pw'), 'from-a-file\n');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function load(config: unknown, env: NodeJS.ProcessEnv = {}) {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config));
  return loadRegistryConfig(path, env);
}

describe('registry config', () => {
  it('reads CA files relative to itself, passwords from the environment or a file, and bounds', async () => {
    const c = await load(
      {
        registries: {
          'registry.factory.example': { ca: 'ca.pem', username: 'berth', passwordEnv: 'REGISTRY_PW', deadlineSeconds: 30 },
          '127.0.0.1:5000': { plainHttp: true, username: 'local', passwordFile: 'pw' },
        },
        defaults: { attempts: 2, idleTimeoutSeconds: 5 },
        admissionTimeoutSeconds: 90,
      },
      { REGISTRY_PW: 'from-env' },
    );
    expect(c.registries['registry.factory.example']).toEqual({
      ca: expect.stringContaining('BEGIN CERTIFICATE'),
      deadlineMs: 30_000,
      credentials: { username: 'berth', password: 'from-env' },
    });
    expect(c.registries['127.0.0.1:5000']).toEqual({ plainHttp: true, credentials: { username: 'local', password: 'from-a-file' } });
    expect(c.registryDefaults).toEqual({ attempts: 2, idleTimeoutMs: 5_000 });
    expect(c.admissionTimeoutMs).toBe(90_000);
  });

  it('refuses, naming the field: a username without a password, unknown keys, bad hosts, missing files, not JSON', async () => {
    await expect(load({ registries: { 'r.example': { username: 'x', passwordEnv: 'UNSET' } } })).rejects.toMatchObject({
      code: 'config.invalid',
      message: expect.stringMatching(/registries\.r\.example: a username needs/),
    });
    await expect(load({ registries: { 'r.example': { password: 'inline' } } })).rejects.toMatchObject({
      code: 'config.invalid',
      message: expect.stringMatching(/registries\.r\.example/),
    });
    await expect(load({ registries: { 'https://r.example': {} } })).rejects.toMatchObject({
      message: expect.stringMatching(/registries\.https:\/\/r\.example: Invalid key/),
    });
    await expect(load({ registries: { 'r.example': { ca: 'missing.pem' } } })).rejects.toMatchObject({
      message: expect.stringMatching(/registries\.r\.example\.ca/),
    });
    await expect(load('{ not json')).rejects.toMatchObject({ code: 'config.invalid' });
  });
});
