import { arg, SimulatedFleet, keepAliveRetried, waitFor } from './fleet-sim.js';
import { percentile, type BenchResult, type Figure } from './report.js';

/**
 * `npm run bench -- fleet --devices N [--timeout S]`: N simulated devices, each with its own
 * certificate and its own kept-alive mTLS connection, against a real control plane (its own
 * process, PGlite, 127.0.0.1). Each device fetches its manifest, then long-polls with its ETag;
 * one deployment on every device is created; a device has adopted it when it has the new
 * manifest, has fetched the ApplicationDeployment YAML and checked its digest, and its
 * `installed` status report was accepted. Bounded by --timeout (default 120 s).
 */
export async function run(argv: string[]): Promise<BenchResult> {
  const n = arg(argv, '--devices', 1000);
  const timeoutMs = arg(argv, '--timeout', 120) * 1000;
  const deadline = Date.now() + timeoutMs + 600_000; // provisioning has its own, generous bound
  const fleet = await SimulatedFleet.start('fleet', argv, deadline);
  try {
    await fleet.provision(n);
    const adoptedAt: number[] = [];
    await fleet.connect(
      () => ({ status: { state: 'installed' } }),
      () => void adoptedAt.push(Date.now()),
      true,
    );
    // Deploy once every device has long-polled at least once and nearly all are parked right now.
    const parked = await fleet.settle();
    fleet.progress(`${parked}/${n} parked on a long-poll; deploying`);
    const before = await fleet.stats();
    const pgBefore = fleet.postgresCpuSeconds();
    fleet.changedAt = Date.now();
    const deployed = await fleet.ask({ kind: 'deploy' }, 'deployed');
    const createdAt = deployed.createdAt as number;
    fleet.progress(`deployment committed after ${(((deployed.committedAt as number) - createdAt) / 1000).toFixed(1)} s`);
    await waitFor(
      () => adoptedAt.length >= n,
      createdAt + timeoutMs,
      () => fleet.progress(`${adoptedAt.length}/${n} adopted after ${((Date.now() - createdAt) / 1000).toFixed(0)} s`),
    );
    const after = await fleet.stats();
    const pgSeconds = fleet.postgresCpuSeconds() - pgBefore;
    const cpuSeconds = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
    const sorted = adoptedAt.map((t) => (t - createdAt) / 1000).sort((a, b) => a - b);
    const at = (fraction: number) => (sorted.length >= Math.ceil(n * fraction) ? sorted[Math.ceil(n * fraction) - 1]! : NaN);
    const figures: Figure[] = [
      { name: 'devices', value: n, unit: '', note: 'each its own P-256 key and certificate, one mTLS connection kept alive while it polls' },
      { name: 'provisioning', value: fleet.provisionMs / 1000, unit: 's', note: 'keys, certificates and store rows (not part of the figures below)' },
      {
        name: 'deployment committed',
        value: ((deployed.committedAt as number) - createdAt) / 1000,
        unit: 's',
        note: `placement on ${String(deployed.placed)} devices, every manifest rendered, versioned, stored`,
      },
      { name: 'adopted by 50%', value: at(0.5), unit: 's', note: 'from creation: manifest + YAML digest checked + status accepted' },
      { name: 'adopted by 95%', value: at(0.95), unit: 's' },
      { name: 'adopted by 100%', value: at(1), unit: 's', note: `${adoptedAt.length}/${n} within ${timeoutMs / 1000} s` },
      { name: 'first poll p50', value: percentile(fleet.firstPolls, 50), unit: 'ms', note: 'new mTLS connection + 200 manifest, 200 in flight' },
      { name: 'first poll p99', value: percentile(fleet.firstPolls, 99), unit: 'ms' },
      {
        name: 'conditional poll p50',
        value: percentile(fleet.conditionalPolls, 50),
        unit: 'ms',
        note: `304, 200 in flight, ${fleet.conditionalReused} of ${n} on a kept-alive connection (the rest reconnect: idle past the server's keep-alive)`,
      },
      { name: 'conditional poll p99', value: percentile(fleet.conditionalPolls, 99), unit: 'ms' },
      { name: 'control-plane CPU, rollout', value: cpuSeconds, unit: 's', note: 'user+system from deploy until the end, one process' },
      ...(fleet.postgres ? [{ name: 'PostgreSQL CPU, rollout', value: pgSeconds, unit: 's', note: 'user+system of the server and its backends' }] : []),
      { name: 'control-plane peak RSS', value: after.maxRssKiB / 1024, unit: 'MiB' },
      { name: 'errors', value: fleet.errors, unit: '', note: 'failed polls, digest mismatches, refused status reports' },
      {
        name: 'keep-alive races retried',
        value: keepAliveRetried(),
        unit: '',
        note: 'request on a kept-alive connection the server closed before reading it, sent again once (not an error)',
      },
    ];
    const errorKinds = fleet.errorSummary();
    return {
      bench: 'fleet',
      figures,
      notes: [
        `store: ${fleet.storeKind}`,
        ...(errorKinds ? [`errors: ${errorKinds}`] : []),
        "loopback only; devices and control plane share this machine's cores",
      ],
    };
  } finally {
    await fleet.close();
  }
}
