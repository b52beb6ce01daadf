import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryOptions } from '../../oci/client-config.js';

describe('registry options from flags and environment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-regopts-'));
    await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('takes credentials from the environment and the CA from a file', async () => {
    const options = await registryOptions({ ca: join(dir, 'ca.pem') }, { BERTH_REGISTRY_USERNAME: 'vendor', BERTH_REGISTRY_PASSWORD: 'pw' });
    expect(options.credentials).toEqual({ username: 'vendor', password: 'pw' });
    expect(options.ca).toMatch(/BEGIN CERTIFICATE/);
    expect(options.plainHttp).toBeUndefined();
  });

  it('is anonymous over HTTPS by default', async () => {
    expect(await registryOptions({}, {})).toEqual({});
  });

  it('refuses a username without a password, and a CA file that cannot be read', async () => {
    await expect(registryOptions({ username: 'vendor' }, {})).rejects.toMatchObject({ code: 'cli.usage', message: expect.stringMatching(/needs a password/) });
    await expect(registryOptions({ ca: join(dir, 'missing.pem') }, {})).rejects.toMatchObject({
      code: 'cli.bad-file',
      message: expect.stringContaining('missing.pem'),
    });
  });
});
