import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeConfig } from '../../cli/config.js';
import { projectRoot } from '../../common/paths.js';
import { addDevice } from '../deployments/fixtures.js';
import { harnessWithRoles } from '../deployments/operator-api.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';

/**
 * The scripts of berth completion, run in the real bash, zsh and fish against the built berth
 * (npm run build first): each asks `berth __complete`, so these check the wrappers and the
 * one place that decides together. Asynchronous execs only: the control plane the ids come
 * from answers in this process.
 */
const run = promisify(execFile);
const root = projectRoot();
const api = harnessWithRoles(['operator', 'vendor:acme']);
const scratch = mkdtempSync(join(tmpdir(), 'berth-completion-'));
const scripts = { bash: join(scratch, 'berth.bash'), zsh: join(scratch, 'berth.zsh'), fish: join(scratch, 'berth.fish') };
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // `berth` on PATH is the built command; its config has one context, the test's control plane.
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  symlinkSync(join(root, 'bin', 'berth.js'), join(bin, 'berth'));
  const config = join(scratch, 'config.yaml');
  writeConfig(
    {
      'current-context': 'test',
      contexts: {
        test: { url: api.h.cp.url, ca: api.h.ca.join('\n'), token: api.token('operator') },
        spare: { url: 'https://127.0.0.1:9', ca: api.h.ca.join('\n'), token: 'x' },
      },
    },
    config,
  );
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, BERTH_CONFIG: config, BERTH_CONTEXT: '', HOME: scratch, XDG_CONFIG_HOME: scratch };
  for (const shell of ['bash', 'zsh', 'fish'] as const)
    writeFileSync(scripts[shell], (await run(process.execPath, [join(root, 'bin', 'berth.js'), 'completion', shell])).stdout);
  await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') });
  await api.as('vendor:acme')('POST', '/api/v1/catalog/apps', { id: 'sensor', description: 'reads the line' });
  await insertVerifiedVersion(api.h.cp.deps.store, {
    appId: 'sensor',
    version: '1.0.0',
    digest: `sha256:${'1'.padStart(64, '0')}`,
    rootsFingerprint: api.h.cp.deps.artifacts!.roots.fingerprint,
  });
  for (const id of ['press-1', 'press-2']) await addDevice(api.h.cp.deps.store, id);
  expect((await api.as('operator')('POST', '/api/v1/admin/deployments', { id: 'line', app: 'sensor', version: '1.0.0', grants: {} })).status).toBe(201);
});

/** What each shell offers for `line` and a <TAB>, values only, sorted. */
const shells: Record<'bash' | 'zsh' | 'fish', (line: string) => Promise<string[]>> = {
  async bash(line) {
    // COMP_WORDS as bash splits the line, the cursor on its last word (empty after a space).
    const words = line.split(' ');
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const script = `source ${scripts.bash}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return lines((await run('bash', ['-c', script], { env })).stdout);
  },
  async zsh(line) {
    return lines(
      (await run('zsh', ['-f', join(root, 'test', 'cli', 'shells', 'zsh-capture.zsh'), scripts.zsh, line], { env, cwd: scratch, timeout: 30_000 })).stdout,
    );
  },
  async fish(line) {
    const out = (await run('fish', ['--no-config', '-c', `source ${scripts.fish}; complete -C ${JSON.stringify(line)}`], { env, cwd: scratch })).stdout;
    return lines(out).map((l) => l.split('\t')[0]!);
  },
};

const lines = (out: string): string[] => out.split('\n').filter(Boolean).sort();

describe.each(['bash', 'zsh', 'fish'] as const)('berth completion in %s itself', (shell) => {
  const offered = shells[shell];

  it('completes commands, subcommands, flags from the option tables and -o values', async () => {
    expect(await offered('berth dep')).toEqual(['deploy', 'deployments']);
    expect(await offered('berth rollout st')).toEqual(['start', 'status']);
    expect(await offered('berth rollout watch --ti')).toEqual(['--timeout']);
    expect(await offered('berth devices revoke --re')).toEqual(['--reason']);
    expect(await offered('berth devices -o ')).toEqual(['json', 'table', 'yaml']);
    // berth orchestrator start has its own table.
    expect(await offered('berth orchestrator start --store')).toEqual(['--store-url']);
    // __complete itself is hidden.
    expect(await offered('berth __')).toEqual([]);
  });

  it('completes --context from the config file, and device and deployment ids from its control plane', async () => {
    expect(await offered('berth devices --context ')).toEqual(['spare', 'test']);
    expect(await offered('berth context use ')).toEqual(['spare', 'test']);
    expect(await offered('berth devices show ')).toEqual(['press-1', 'press-2']);
    expect(await offered('berth rollout watch ')).toEqual(['line']);
    expect(await offered('berth rollback l')).toEqual(['line']);
    expect(await offered('berth deployments show -o json ')).toEqual(['line']);
  });

  it('completes no ids, and says nothing, when the control plane cannot be reached', async () => {
    const started = Date.now();
    // The spare context points at a closed port; a file name is all the shell may offer.
    const offeredThere = await offered('berth devices show --context spare ');
    expect(offeredThere.filter((c) => c.startsWith('press'))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('berth __complete', () => {
  it('prints a candidate a line with its description, and nothing at all on stderr', async () => {
    const berth = (...words: string[]) => run(process.execPath, [join(root, 'bin', 'berth.js'), '__complete', ...words], { env });
    const top = await berth('rollb');
    expect(top.stdout).toBe('rollback\troll a deployment back to the version before its rollout\n');
    // A subcommand's own flags (berth attest link), and the TUF commands.
    expect((await berth('attest', 'link', '--st')).stdout).toBe('--step\n');
    expect((await berth('tuf', 'rot')).stdout).toBe('rotate-online-keys\nrotate-root-keys\n');
    const ids = await berth('devices', 'show', '');
    expect(ids.stdout).toBe('press-1\tactive\npress-2\tactive\n');
    for (const words of [
      ['devices', 'show', '--context', 'nowhere', ''],
      ['devices', 'show', '--url', 'https://127.0.0.1:9', ''],
      ['nope', ''],
    ]) {
      const r = await berth(...words);
      expect([r.stdout, r.stderr]).toEqual(['', '']);
    }
  });
});
