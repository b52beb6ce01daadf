import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { parseHostPort } from '../common/host-port.js';
import { TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import type { Command } from './main.js';
import { stopSignal } from './stop-signal.js';
import { DEFAULT_DATA_DIR, resolveTarget } from './target.js';

const HELP = `usage: berth orchestrator <subcommand> [options]

  start                      run the control plane (HTTPS, mutual TLS for devices)
    --data-dir <dir>         store, CA keys and admin socket (default: ./.berth/orchestrator)
    --store-url <url>        a PostgreSQL server instead of the embedded store
    --host <addr>            listen address (default 127.0.0.1)
    --port <n>               listen port (default 8443; 0 picks a free one)
    --name <host>            extra DNS name or IP for the server certificate (repeatable)
    --public-url <url>       the https URL devices reach this control plane at; every URL it
                             hands out starts with it (default https://<host>:<port>)
    --trust-domain <td>      SPIFFE trust domain (default berth.local; fixed at first start)
    --cert-days <n>          device certificate lifetime in days (default 30)
    --require-approval       new devices wait for an operator (stored; --no-approval turns it off)
    --no-approval
    --registry-config <file>  how admission reaches registries: CA, credentials, plain HTTP (docs/admission.md)
    --run-history-days <n>   keep which version each device ran this long after it stopped, for
                             exposure reports (default 730; docs/vulnerability-response.md), and
                             the audit log as long (docs/audit.md)
    --usage-history-days <n> keep apps' usage samples this long (default 14; docs/accounting.md)
    --metrics-listen <host:port>  also serve GET /metrics over plain HTTP without a token, for
                             Prometheus (e.g. 127.0.0.1:9464; default off: /metrics on the main
                             listener needs an admin or operator token; docs/metrics.md)
  devices                    list devices
  pending                    list onboarding requests waiting for approval
  approve <request-id>       approve a pending device
  deny <request-id>          deny a pending device
  revoke <device-id> [--reason <text>]
  trust-manufacturer <name> <ca.pem>   accept factory certificates issued by this CA
  rotate-ca [--new-root] [--root-key <file>]   new issuing CA (and root); old ones overlap
  retire-ca <fingerprint>    end the overlap for a rotated-out CA
  rotate-desired-state-key   new desired-state signing key, endorsed by the current one (devices follow)
  rotate-signing-ca [--tsa]  new fleet signing CA (and timestamp authority with --tsa); the old
                             ones stay in the signing roots; devices follow (docs/signing.md)
  retire-signing-root <fingerprint>   take a rotated-out signing CA or TSA out of the roots
  retire-version <app> <version>   remove a catalog version no deployment needs; its mirror copy
                             is cleaned up after (docs/admission.md); a vendor uses --url with
                             its own token

Every command but start talks to a running control plane: see TARGET below.

${TARGET_HELP}`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  reason: { type: 'string' },
  'new-root': { type: 'boolean' },
  'root-key': { type: 'string' },
  tsa: { type: 'boolean' },
} as const;

const START_OPTIONS = {
  'data-dir': { type: 'string' },
  'store-url': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  name: { type: 'string', multiple: true },
  'public-url': { type: 'string' },
  'trust-domain': { type: 'string' },
  'cert-days': { type: 'string' },
  'require-approval': { type: 'boolean' },
  'no-approval': { type: 'boolean' },
  'registry-config': { type: 'string' },
  'run-history-days': { type: 'string' },
  'usage-history-days': { type: 'string' },
  'metrics-listen': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const command: Command = {
  options: OPTIONS,
  subcommandOptions: { start: START_OPTIONS },
  operands: { revoke: 'device' },
  subcommands: [
    'start',
    'devices',
    'pending',
    'approve',
    'deny',
    'revoke',
    'trust-manufacturer',
    'rotate-ca',
    'retire-ca',
    'rotate-desired-state-key',
    'rotate-signing-ca',
    'retire-signing-root',
    'retire-version',
  ],
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === '-h') {
      process.stdout.write(HELP + '\n');
      return sub ? 0 : 2;
    }
    if (sub === 'start') return start(rest);
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const { adminCall } = await import('../orchestrator/admin/client.js');
    const target = await resolveTarget(values);
    const need = (n: number, what: string) => {
      if (positionals.length !== n) throw new BerthError('cli.usage', `${sub} takes ${what}`);
    };
    let out: unknown;
    switch (sub) {
      case 'devices':
        out = await adminCall(target, 'GET', '/api/v1/admin/devices');
        break;
      case 'pending':
        out = await adminCall(target, 'GET', '/api/v1/admin/onboarding-requests');
        break;
      case 'approve':
      case 'deny':
        need(1, '<request-id>');
        if (!/^[0-9a-f]{32}$/.test(positionals[0]!)) throw new BerthError('cli.usage', `'${positionals[0]}' is not a request id (32 hex digits)`);
        out = await adminCall(target, 'POST', `/api/v1/admin/onboarding-requests/${positionals[0]}/${sub}`);
        break;
      case 'revoke':
        need(1, '<device-id>');
        out = await adminCall(target, 'POST', '/api/v1/admin/device-revocations', {
          deviceId: positionals[0],
          ...(values.reason ? { reason: values.reason } : {}),
        });
        break;
      case 'trust-manufacturer':
        need(2, '<name> <ca.pem>');
        out = await adminCall(target, 'POST', '/api/v1/admin/manufacturers', { name: positionals[0], certificate: readFileSync(positionals[1]!, 'utf8') });
        break;
      case 'rotate-ca':
        out = await adminCall(target, 'POST', '/api/v1/admin/ca/rotations', {
          newRoot: values['new-root'] === true,
          ...(values['root-key'] ? { rootKeyPem: readFileSync(values['root-key'], 'utf8') } : {}),
        });
        break;
      case 'rotate-desired-state-key':
        out = await adminCall(target, 'POST', '/api/v1/admin/desired-state/key-rotations', {});
        break;
      case 'rotate-signing-ca':
        out = await adminCall(target, 'POST', '/api/v1/admin/signing/rotations', { signingCa: true, timestampAuthority: values.tsa === true });
        break;
      case 'retire-signing-root':
        need(1, '<fingerprint>');
        out = await adminCall(target, 'POST', '/api/v1/admin/signing/retirements', { fingerprint: positionals[0] });
        break;
      case 'retire-version': {
        need(2, '<app> <version>');
        const [app, version] = positionals as [string, string];
        await adminCall(target, 'DELETE', `/api/v1/catalog/apps/${encodeURIComponent(app)}/versions/${encodeURIComponent(version)}`);
        out = { app, version, retired: true };
        break;
      }
      case 'retire-ca':
        need(1, '<fingerprint>');
        out = await adminCall(target, 'POST', '/api/v1/admin/ca/retirements', { fingerprint: positionals[0] });
        break;
      default:
        throw new BerthError('cli.usage', `unknown subcommand '${sub}'; see berth orchestrator --help`);
    }
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  },
};

async function start(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: START_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const historyDays = wholeDays('run-history-days', values['run-history-days']);
  const usageDays = wholeDays('usage-history-days', values['usage-history-days']);
  const port = Number(values.port ?? 8443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BerthError('cli.usage', `--port must be 0-65535, not '${values.port}'`);
  const days = Number(values['cert-days'] ?? 30);
  if (!(days > 0 && days <= 3650)) throw new BerthError('cli.usage', `--cert-days must be between 0 and 3650, not '${values['cert-days']}'`);
  const metricsListen = values['metrics-listen'] === undefined ? undefined : parseHostPort(values['metrics-listen']);
  if (values['metrics-listen'] !== undefined && !metricsListen)
    throw new BerthError('cli.usage', `--metrics-listen must be host:port (127.0.0.1:9464, [::1]:9464), not '${values['metrics-listen']}'`);
  const dataDir = resolve(values['data-dir'] ?? DEFAULT_DATA_DIR);
  const registryConfig = values['registry-config']
    ? await (await import('../orchestrator/catalog/registry-config.js')).loadRegistryConfig(values['registry-config'])
    : {};
  const { startControlPlane } = await import('../orchestrator/control-plane.js');
  const { createLogger } = await import('../common/logger.js');
  const { pino } = await import('pino');
  // Logs (with the audit events) go to stderr as JSON lines; stdout is for people.
  const logger = createLogger({ name: 'berth-orchestrator' }, pino.destination({ fd: 2, sync: true }));
  const cp = await startControlPlane({
    dataDir,
    logger,
    ...(values['store-url'] ? { storeUrl: values['store-url'] } : {}),
    ...(values['trust-domain'] ? { trustDomain: values['trust-domain'] } : {}),
    host: values.host ?? '127.0.0.1',
    port,
    serverNames: values.name ?? [],
    ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
    certificateLifetimeMs: days * 86_400_000,
    ...(historyDays !== undefined ? { runHistoryDays: historyDays } : {}),
    ...(usageDays !== undefined ? { usageHistoryDays: usageDays } : {}),
    ...(metricsListen ? { metricsListen } : {}),
    ...registryConfig,
    ...(values['require-approval'] ? { requireApproval: true } : values['no-approval'] ? { requireApproval: false } : {}),
  });
  const dd = JSON.stringify(dataDir);
  process.stdout.write(
    [
      `berth control plane listening on ${cp.url} (trust domain ${cp.deps.authority.trustDomain}, ${cp.deps.store.kind} store)`,
      `fleet root CA (give it to devices and operator tools): ${resolve(dataDir, 'ca.pem')}`,
      `metrics for Prometheus: ${cp.url}/metrics (admin or operator token)${cp.metricsListener ? `, ${cp.metricsListener.url} (no token)` : ''}`,
      `create the first operator token:  berth token create --data-dir ${dd} --role admin --name <you>`,
      `create an enrollment token:       berth token enroll --data-dir ${dd} [--device-id <id>] [--ttl 3600]`,
      '',
    ].join('\n'),
  );
  await stopSignal();
  await cp.close().catch(() => {});
  return 0;
}

/** A retention option: a whole number of days from 1 to 100 years, or absent (the default). */
function wholeDays(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = Number(value);
  if (!(Number.isInteger(days) && days >= 1 && days <= 36_500))
    throw new BerthError('cli.usage', `--${option} must be a whole number of days from 1 to 36500, not '${value}'`);
  return days;
}
