import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { configPath } from '../../cli/config.js';
import { projectRoot } from '../../common/paths.js';
import { berth } from '../support/berth-in-process.js';
import { harnessWithRoles } from '../deployments/operator-api.js';

const api = harnessWithRoles(['operator', 'vendor:acme']);
const said = (r: { code: number; out: string; err: string }) => `exit ${r.code}; stdout: ${r.out}; stderr: ${r.err}`;
let caFile: string;
let config: string;

beforeAll(() => {
  caFile = join(api.h.dir, 'cli-ca.pem');
  writeFileSync(caFile, api.h.ca.join('\n'));
});
beforeEach(() => {
  // Each test its own config file, never the developer's.
  config = join(mkdtempSync(join(tmpdir(), 'berth-config-')), 'nested', 'config.yaml');
  vi.stubEnv('BERTH_CONFIG', config);
  vi.stubEnv('BERTH_CONTEXT', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const login = (...extra: string[]) => berth('login', '--url', api.h.cp.url, '--ca', caFile, ...extra);

describe('berth login and berth context', () => {
  it('checks the credentials first, saves the context owner-only with the CA inline, and never prints the token', async () => {
    const bad = await login('--token', 'not-a-token', '--context', 'prod');
    expect(bad.code, said(bad)).toBe(1);
    expect(bad.err).toContain('not saved');
    expect(() => statSync(config)).toThrow();

    const token = api.token('operator');
    const ok = await login('--token', token, '--context', 'prod');
    expect(ok.code, said(ok)).toBe(0);
    expect(ok.out).toContain("context 'prod' saved");
    expect(ok.out + ok.err).not.toContain(token);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const saved = parse(readFileSync(config, 'utf8'));
    expect(saved).toEqual({
      'current-context': 'prod',
      contexts: { prod: { url: api.h.cp.url, ca: api.h.ca.join('\n'), token } },
    });

    // A second context, by default named after the URL's host and port; it becomes current.
    const second = await login('--token', api.token('vendor:acme'));
    expect(second.code, said(second)).toBe(0);
    const name = `127.0.0.1-${new URL(api.h.cp.url).port}`;
    const list = await berth('context');
    expect(list.out).toBe(
      [
        'CURRENT  NAME' + ' '.repeat(name.length - 4) + '  URL',
        `*        ${name}  ${api.h.cp.url}`,
        `         prod${' '.repeat(name.length - 4)}  ${api.h.cp.url}`,
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await berth('context', 'list', '-o', 'json')).out);
    expect(json).toEqual([
      { name, url: api.h.cp.url, current: true },
      { name: 'prod', url: api.h.cp.url, current: false },
    ]);
    expect((await berth('context', 'use', 'prod')).code).toBe(0);
    expect((await berth('context', 'current')).out).toBe('prod\n');
    expect((await berth('context', 'delete', name)).code).toBe(0);
    expect(Object.keys(parse(readFileSync(config, 'utf8')).contexts)).toEqual(['prod']);
    expect(statSync(config).mode & 0o777).toBe(0o600);
  });

  it('API commands take their target from flags, then --context or $BERTH_CONTEXT, then the current context', async () => {
    expect((await login('--token', api.token('operator'), '--context', 'ops')).code).toBe(0);
    expect((await login('--token', api.token('vendor:acme'), '--context', 'acme')).code).toBe(0);
    // Current: acme, a vendor, whom the device list refuses (exit 1, the problem printed).
    const asVendor = await berth('devices');
    expect(asVendor.code, said(asVendor)).toBe(1);
    expect(asVendor.err).toMatch(/berth devices: .*\(403\)/);
    const byFlag = await berth('devices', '--context', 'ops');
    expect(byFlag.code, said(byFlag)).toBe(0);
    expect(byFlag.out).toMatch(/^ID +STATUS +ONBOARDING +LABELS +CREATED\n/);
    vi.stubEnv('BERTH_CONTEXT', 'ops');
    expect((await berth('devices')).code).toBe(0);
    // The admin socket by --data-dir wins over any context.
    vi.stubEnv('BERTH_CONTEXT', 'acme');
    expect((await berth('devices', '--data-dir', api.h.dir)).code).toBe(0);
  });

  it('usage errors exit 2 with a clear message, and nothing is written', async () => {
    const cases: [string[], string][] = [
      [['login', '--url', 'https://x.test'], 'login needs --url, --ca and --token'],
      [['login', '--url', 'http://x.test', '--ca', 'nope.pem', '--token', 't'], 'nope.pem'],
      [['login', '--bogus'], "Unknown option '--bogus'"],
      [['context', 'use', 'nowhere'], "no context 'nowhere'"],
      [['context', 'frobnicate'], "unknown subcommand 'frobnicate'"],
      [['devices', '--context', 'nowhere'], "no context 'nowhere'"],
      [['devices', '--url', api.h.cp.url], '--url needs --token and --ca'],
      [['devices', '-o', 'xml', '--data-dir', api.h.dir], "-o must be table, json or yaml, not 'xml'"],
    ];
    for (const [args, message] of cases) {
      const r = await berth(...args);
      expect(r.code, `${args.join(' ')}: ${said(r)}`).toBe(2);
      expect(r.err).toContain(message);
    }
    const plainHttp = await berth('login', '--url', 'http://x.test', '--ca', caFile, '--token', 't');
    expect(plainHttp.code, said(plainHttp)).toBe(2);
    expect(plainHttp.err).toContain('--url');
    expect(() => statSync(config)).toThrow();
  });

  it('reads the token from standard input with --token -, and warns about a config file others can read', async () => {
    // The built command in a child process: its standard input is the token (npm run build first).
    const child = execFile(process.execPath, [join(projectRoot(), 'bin', 'berth.js'), 'login', '--url', api.h.cp.url, '--ca', caFile, '--token', '-'], {
      env: { ...process.env, BERTH_CONFIG: config },
    });
    child.stdin!.end(api.token('operator') + '\n');
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);
    expect(parse(readFileSync(config, 'utf8')).contexts[`127.0.0.1-${new URL(api.h.cp.url).port}`].token).toBe(api.token('operator'));
    chmodSync(config, 0o644);
    const loose = await berth('context', 'list');
    expect(loose.code).toBe(0);
    expect(loose.err).toBe(`berth: warning: ${config} is readable by others; chmod 600 it\n`);
  });

  it('finds the file by $BERTH_CONFIG, else $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ BERTH_CONFIG: '/a/b.yaml', XDG_CONFIG_HOME: '/x' })).toBe('/a/b.yaml');
    expect(configPath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/berth/config.yaml');
    expect(configPath({})).toMatch(/\/\.config\/berth\/config\.yaml$/);
  });
});
