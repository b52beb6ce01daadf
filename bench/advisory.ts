import { Agent } from 'node:https';
import { isDigest } from '../common/digest.js';
import { planFromDocument, refusedBy } from '../runtime/agent/deployment-plan.js';
import { ADVISORY_REFUSED_CODE } from '../wire/margo/status.js';
import { arg, choice, DEPLOYMENT_ID, keepAliveRetried, send, SimulatedFleet, waitFor, type Report, type SimDevice } from './fleet-sim.js';
import { percentile, type BenchResult, type Figure } from './report.js';

/**
 * `npm run bench -- advisory --devices N [--timeout S] [--action rollback|stop] [--store pglite|postgres] [--profile DIR]`
 * (issue 14): N simulated devices (bench/fleet-sim.ts) all run version 1.1.0 of one app, one
 * deployment on every device, each `installed` first (not timed). Then an admin files a security
 * advisory on `>=1.1.0` through the operator API (1.0.0 is admitted too) and the bench times, from
 * just before that POST, each device's reaction: for `rollback`, it has the new desired state,
 * has fetched the document naming 1.0.0 (digest checked) and its `installed` report for 1.0.0 was
 * accepted; for `stop`, it has the document whose refusedDigests holds its running digest and its
 * `failed` report with `agent.advisory_refused` was accepted. Each device reads its documents as
 * the agent does (runtime/agent/deployment-plan.ts). Bounded by --timeout (default 180 s) per
 * phase; a device that fails or a phase that times out ends the bench with an error naming how
 * many got there and why.
 */
const OLD = '1.0.0';
const CURRENT = '1.1.0';
const ADVISORY_ID = 'CVE-2026-49999';

type Phase = 'install' | 'advisory';

export async function run(argv: string[]): Promise<BenchResult> {
  const n = arg(argv, '--devices', 1000);
  const timeoutMs = arg(argv, '--timeout', 180) * 1000;
  const action = choice(argv, '--action', ['rollback', 'stop']);
  const deadline = Date.now() + 2 * timeoutMs + 600_000; // provisioning has its own, generous bound
  const fleet = await SimulatedFleet.start('advisory', argv, deadline);
  try {
    await fleet.provision(n, [OLD, CURRENT]);
    let phase: Phase = 'install';
    let filedAt = 0;
    const installed = new Set<string>();
    /** Per device, ms from just before the advisory's POST: its new document checked, its report accepted. */
    const received = new Map<string, number>();
    const reacted = new Map<string, number>();
    const running = new Map<string, string>();
    // What the agent does with a new document: read it, refuse a stopped digest, else install its version.
    const react = (d: SimDevice, _m: unknown, doc: { digest: string; bytes: Buffer }): Report | undefined => {
      if (!isDigest(doc.digest)) throw new Error(`document digest '${doc.digest}' is not sha256:<hex>`);
      if (phase === 'advisory' && !received.has(d.id)) received.set(d.id, performance.now() - filedAt);
      const plan = planFromDocument({ deploymentId: DEPLOYMENT_ID, digest: doc.digest, bytes: doc.bytes }, d.id);
      const digest = plan.component.ref.digest;
      const advisories = refusedBy(plan, digest);
      const ext = { version: plan.version };
      if (advisories) {
        const message = `version ${plan.version} (${digest}) is stopped by security advisory ${advisories.join(', ')}; it is not run on this device`;
        return { status: { state: 'failed', error: { code: ADVISORY_REFUSED_CODE, source: 'device', message } }, 'x-berth-extensions': ext };
      }
      if (running.get(d.id) === digest) return undefined;
      running.set(d.id, digest);
      return { status: { state: 'installed' }, 'x-berth-extensions': ext };
    };
    const wanted = (r: Report): boolean =>
      action === 'rollback'
        ? r.status.state === 'installed' && r['x-berth-extensions']?.version === OLD
        : r.status.state === 'failed' && r.status.error?.code === ADVISORY_REFUSED_CODE && r['x-berth-extensions']?.version === CURRENT;
    const onReported = (d: SimDevice, r: Report): void => {
      if (phase === 'install' && r.status.state === 'installed' && r['x-berth-extensions']?.version === CURRENT) installed.add(d.id);
      else if (phase === 'advisory' && wanted(r) && !reacted.has(d.id)) reacted.set(d.id, performance.now() - filedAt);
    };
    await fleet.connect(react, onReported, false);
    const failure = (what: string, got: number): Error =>
      new Error(
        `advisory bench: ${got}/${n} devices ${what}` +
          (fleet.failed.size ? `; ${fleet.failed.size} failed` : '') +
          (fleet.errors ? `; errors: ${fleet.errorSummary()}` : ''),
      );
    const finished = (done: { size: number }) => () => done.size + fleet.failed.size >= n;

    // Not timed: every device runs 1.1.0 and has said so.
    await fleet.settle();
    const deployStart = Date.now();
    await fleet.ask({ kind: 'deploy', version: CURRENT }, 'deployed');
    await waitFor(finished(installed), deployStart + timeoutMs, () => fleet.progress(`${installed.size}/${n} installed ${CURRENT}`));
    if (installed.size < n) throw failure(`installed ${CURRENT} within ${timeoutMs / 1000} s`, installed.size);
    const installMs = Date.now() - deployStart;
    const parked = await fleet.settle();
    fleet.progress(`${n} devices run ${CURRENT} (${(installMs / 1000).toFixed(1)} s); ${parked}/${n} parked on a long-poll; filing the ${action} advisory`);

    const before = await fleet.stats(true);
    const pgBefore = fleet.postgresCpuSeconds();
    const devicesCpuBefore = process.cpuUsage();
    const operator = new Agent({ keepAlive: false, ca: fleet.ca });
    const body = JSON.stringify({
      id: ADVISORY_ID,
      summary: 'advisory bench: every device on an affected version reacts',
      severity: 'critical',
      action,
      affected: [{ app: 'meter', versions: `>=${CURRENT}` }],
    });
    phase = 'advisory';
    fleet.changedAt = Date.now();
    filedAt = performance.now();
    const filed = await send(operator, fleet.ca, `${fleet.url}/api/v1/advisories`, 'POST', { authorization: `Bearer ${fleet.adminToken}` }, body);
    const postMs = performance.now() - filedAt;
    operator.destroy();
    if (filed.status !== 201) throw new Error(`advisory bench: POST /api/v1/advisories answered ${filed.status}: ${filed.body.toString('utf8').slice(0, 500)}`);
    const created = JSON.parse(filed.body.toString('utf8')) as { moved: { to: string; devices: string[] }[]; stopped: { devices: string[] }[] };
    const told = action === 'rollback' ? created.moved.flatMap((m) => (m.to === OLD ? m.devices : [])) : created.stopped.flatMap((s) => s.devices);
    if (told.length !== n)
      throw new Error(`advisory bench: the advisory's answer names ${told.length} of ${n} devices as ${action === 'rollback' ? 'moved to ' + OLD : 'stopped'}`);
    fleet.progress(`advisory filed in ${(postMs / 1000).toFixed(2)} s`);
    const end = Date.now() - postMs + timeoutMs;
    await waitFor(finished(reacted), end, () => fleet.progress(`${reacted.size}/${n} reacted after ${((performance.now() - filedAt) / 1000).toFixed(0)} s`));
    const totalMs = reacted.size === n ? Math.max(...reacted.values()) : NaN;
    const after = await fleet.stats();
    const pgSeconds = fleet.postgresCpuSeconds() - pgBefore;
    const devicesCpu = process.cpuUsage(devicesCpuBefore);
    if (reacted.size < n) throw failure(`reacted within ${timeoutMs / 1000} s of the advisory`, reacted.size);
    // The store's word, not only the devices': every device's last report is the reaction.
    const rows = (await fleet.ask({ kind: 'statuses' }, 'statuses')).rows as { version: string; state: string; code: string | null; devices: number }[];
    const expected =
      action === 'rollback' ? { version: OLD, state: 'installed', code: null } : { version: CURRENT, state: 'failed', code: ADVISORY_REFUSED_CODE };
    const stored = rows.find((r) => r.version === expected.version && r.state === expected.state && r.code === expected.code)?.devices ?? 0;
    if (stored !== n) throw new Error(`advisory bench: the store holds ${stored} of ${n} reports of ${JSON.stringify(expected)} (${JSON.stringify(rows)})`);

    const cpuSeconds = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
    const times = [...reacted.values()].map((ms) => ms / 1000);
    const gets = [...received.values()].map((ms) => ms / 1000);
    const reaction =
      action === 'rollback'
        ? `document naming ${OLD} checked, installed ${OLD} accepted`
        : 'refusedDigests names its digest, failed (agent.advisory_refused) accepted';
    const figures: Figure[] = [
      { name: 'devices', value: n, unit: '', note: `each its own P-256 key and certificate and kept-alive mTLS connection, all running ${CURRENT}` },
      { name: 'provisioning', value: fleet.provisionMs / 1000, unit: 's', note: 'keys, certificates and store rows (not timed below)' },
      { name: `all installed ${CURRENT}`, value: installMs / 1000, unit: 's', note: 'the deployment before the advisory (not timed below)' },
      {
        name: 'advisory POST',
        value: postMs / 1000,
        unit: 's',
        note: `${action}: stored, matched, ${action === 'rollback' ? 'deployment moved, ' : ''}every device's state rendered, in one transaction`,
      },
      { name: 'new document p50', value: percentile(gets, 50), unit: 's', note: 'from just before the POST: new manifest, document fetched, digest checked' },
      { name: 'new document max', value: Math.max(...gets), unit: 's' },
      { name: 'reacted p50', value: percentile(times, 50), unit: 's', note: `from just before the POST: ${reaction}` },
      { name: 'reacted p90', value: percentile(times, 90), unit: 's' },
      { name: 'reacted max', value: Math.max(...times), unit: 's' },
      {
        name: 'total',
        value: totalMs / 1000,
        unit: 's',
        note: `advisory to every device ${action === 'rollback' ? 'rolled back' : 'stopped'} (${reacted.size}/${n}, bound ${timeoutMs / 1000} s)`,
      },
      { name: 'control-plane CPU, advisory', value: cpuSeconds, unit: 's', note: 'user+system from the POST until every device reacted, one process' },
      {
        name: 'devices CPU, advisory',
        value: (devicesCpu.user + devicesCpu.system) / 1e6,
        unit: 's',
        note: 'user+system of this process (every simulated device: TLS, polls, reading documents) over the same span',
      },
      ...(fleet.postgres ? [{ name: 'PostgreSQL CPU, advisory', value: pgSeconds, unit: 's', note: 'user+system of the server and its backends' }] : []),
      { name: 'control-plane peak RSS', value: after.maxRssKiB / 1024, unit: 'MiB' },
      { name: 'errors', value: fleet.errors, unit: '', note: 'failed polls, digest mismatches, refused status reports' },
      { name: 'keep-alive races retried', value: keepAliveRetried(), unit: '', note: 'sent again once on a new connection (not an error)' },
    ];
    const errorKinds = fleet.errorSummary();
    return {
      bench: 'advisory',
      figures,
      notes: [
        `action: ${action}; store: ${fleet.storeKind}; ${parked}/${n} parked on a long-poll when filed`,
        `the store holds ${stored} reports of ${expected.state} ${expected.version}${expected.code ? ` (${expected.code})` : ''}`,
        ...(errorKinds ? [`errors: ${errorKinds}`] : []),
        "loopback only; devices and control plane share this machine's cores",
      ],
      data: { action, devices: n, store: fleet.storeKind, postMs, totalMs },
    };
  } finally {
    await fleet.close();
  }
}
