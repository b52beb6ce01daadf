import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { check, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';

// The tree stays formatted by the repository's own Prettier config (.prettierrc.json): a file
// written by hand or by a tool and not formatted fails here, naming it (`npm run format` fixes it).
describe('the source tree', () => {
  it('is formatted by .prettierrc.json', async () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs', '*.js'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.length > 0);
    expect(files.length).toBeGreaterThan(100);
    const unformatted: string[] = [];
    for (const file of files) {
      const options = await resolveConfig(file);
      if (!(await check(readFileSync(file, 'utf8'), { ...options, filepath: file }))) unformatted.push(file);
    }
    expect(unformatted).toEqual([]);
  }, 120_000);
});
