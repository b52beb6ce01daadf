import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePrivateFile } from '../../trust/key-files.js';
import { suiteTempDir } from '../support/tmp.js';

describe('writePrivateFile', () => {
  it('lets several writes of one file run at once: each renames a whole file, the last wins, no temp file stays', async () => {
    const dir = suiteTempDir('key-files');
    const path = join(dir, 'ca.pem');
    const contents = Array.from({ length: 20 }, (_, i) => `-----BEGIN CERTIFICATE-----\n${String(i).repeat(64)}\n-----END CERTIFICATE-----\n`);
    await Promise.all(contents.map((c) => writePrivateFile(path, c)));
    expect(contents).toContain(readFileSync(path, 'utf8'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['ca.pem']);
  });

  it('leaves no temp file behind when the write fails', async () => {
    const dir = suiteTempDir('key-files-fail');
    // The target is a folder: the final rename fails after the temp file was written.
    const path = join(dir, 'taken');
    await writePrivateFile(join(path, 'inner'), 'x');
    await expect(writePrivateFile(path, 'y')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});
