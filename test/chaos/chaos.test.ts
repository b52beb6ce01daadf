import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { operatorClient, type OperatorClient } from '../../cli/demo/operator-client.js';
import { silentLogger } from '../../common/logger.js';
import { projectRoot } from '../../common/paths.js';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { createEnrollmentToken, createOperatorToken } from '../../orchestrator/admin/tokens.js';
import type { AgentConfigInput } from '../../runtime/agent/config.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { serializeBundle, signComponent } from '../../trust/signing/sign.js';
import { fixture, variant } from '../agent/support.js';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';
import { fillDisk, filler, freeDisk, libfaketime, mountSmallDisk, skewableClockEnv, unmount } from './environment.js';
import {
  appliedStatusProblems,
  componentsRun,
  deviceQueueProblems,
  statusQueueFile,
  storeProblems,
  STATUS_AUDIT_SQL,
  unadmittedRuns,
  type DeviceRecord,
} from './invariants.js';
import { chaosSeed, describeFault, planFaults, seededRandom, type Fault } from './plan.js';
import { chaosPostgres, withDatabase, type ChaosPostgres } from './postgres.js';
import { agentProcess, replicaProcess, type BerthProcess } from './processes.js';

// A bounded chaos run (issue 12): two control-plane replicas on one PostgreSQL server and three
// device agents, each its own process, during a rolling update from 1.0.0 to 1.1.0 in waves of
// one device. Faults at seeded random points: agents killed with SIGKILL and started again (on
// either replica), one replica killed and started again, PostgreSQL shut down immediately and
// started again, one device's disk filled (a tmpfs of a few MiB) and freed, one device's clock
// moved an hour behind and another's an hour ahead (libfaketime). Then the faults stop and the checks are: every device
// converges; no device ever ran a digest the catalog did not admit for that version; no status
// report was lost or applied twice; nothing in the store is half-applied; no process died on its own.
// Replay a run with BERTH_CHAOS_SEED=<the seed it printed>.

const AGENTS = 3;
const REPLICAS = 2;
const DEPLOYMENT = 'meter';
/** The versions the operator rolls through while the faults run: each a variant of the same fixture. */
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'];
const V1 = VERSIONS[0]!;
const DISK_MIB = 8;

const seed = chaosSeed();
const say = (line: string) => process.stdout.write(`chaos: ${line}\n`);

describe(`chaos: two replicas on PostgreSQL, three agents, a rolling update under faults (BERTH_CHAOS_SEED=${seed})`, () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-chaos-'));
  const pgRoot = mkdtempSync(join(tmpdir(), 'berth-chaos-pg-'));
  let registry: TestRegistry | undefined;
  let pg: ChaosPostgres | undefined;
  const replicas: BerthProcess[] = [];
  const agents: BerthProcess[] = [];
  const mounts: string[] = [];

  afterAll(async () => {
    for (const p of [...agents, ...replicas]) await p.stop().catch(() => {});
    // BERTH_CHAOS_LOGS=<dir>: every process's log lines kept there, for a run replayed by its seed.
    const keep = process.env.BERTH_CHAOS_LOGS;
    if (keep) for (const p of [...agents, ...replicas]) writeFileSync(join(keep, `${p.name}.jsonl`), p.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await pg?.stop().catch(() => {});
    await registry?.stop().catch(() => {});
    for (const m of mounts) unmount(m);
    rmSync(root, { recursive: true, force: true });
    rmSync(pgRoot, { recursive: true, force: true });
  }, 60_000);

  it('converges after the faults with only admitted digests run, every status report applied once, and a consistent store', async () => {
    const started = Date.now();
    say(`seed ${seed} (replay with BERTH_CHAOS_SEED=${seed})`);
    if (!existsSync(join(projectRoot(), 'dist', 'cli', 'orchestrator.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does)');
    const random = seededRandom(seed);

    // --- The world: registry, PostgreSQL, two replicas sharing the CA and desired-state keys.
    registry = await startRegistry();
    const registryConfig = join(root, 'registries.json');
    writeFileSync(registryConfig, JSON.stringify({ registries: { [registry.host]: { plainHttp: true } } }));
    pg = await chaosPostgres(pgRoot);
    const db = pg.url;
    const ports = [await freePort(), await freePort()];
    for (let i = 0; i < REPLICAS; i++)
      replicas.push(replicaProcess(`replica-${i}`, { dataDir: join(root, `cp-${i}`), storeUrl: db, port: ports[i]!, registryConfig }));
    await replicas[0]!.start();
    // Replicas share the issuing and desired-state keys (a mounted secret in production).
    cpSync(join(root, 'cp-0', 'pki'), join(root, 'cp-1', 'pki'), { recursive: true });
    await replicas[1]!.start();
    const urls = ports.map((p) => `https://127.0.0.1:${p}`);
    const ca = readFileSync(join(root, 'cp-0', 'ca.pem'), 'utf8');
    const caFile = join(root, 'fleet-ca.pem');
    writeFileSync(caFile, ca);
    await withDatabase(db, async (q) => {
      for (const sql of STATUS_AUDIT_SQL) await q.query(sql);
    });
    const adminToken = (await withDatabase(db, (q) => createOperatorToken(q, silentLogger, { name: 'chaos', role: 'admin', by: 'chaos test' }))).token;
    const admins: OperatorClient[] = urls.map((u) => operatorClient(u, ca, adminToken));

    // --- The catalog: one app, two versions of a fixture, signed by the vendor, admitted.
    const key = generateVendorKey();
    await admins[0]!.call('POST', '/api/v1/catalog/vendors', {
      name: 'acme',
      trustPolicy: { publicKeys: [key.publicKeyPem], repositories: [`${registry.host.replace(/[.]/g, '\\.')}/acme/.+`] },
    });
    await admins[0]!.call('POST', '/api/v1/catalog/apps', { id: 'meter', vendor: 'acme' });
    const client = new RegistryClient(registry.host, { plainHttp: true });
    for (const version of VERSIONS) {
      const bytes = version === V1 ? fixture('hello') : variant(fixture('hello'), version);
      await pushComponent(client, 'acme/meter', version, bytes, [
        { kind: 'message-signature', bytes: serializeBundle(signComponent(bytes, loadPrivateKey(key.privateKeyPem))) },
      ]);
      await admins[0]!.call('POST', '/api/v1/catalog/apps/meter/versions', {
        version,
        component: { reference: `oci://${registry.host}/acme/meter:${version}` },
      });
    }

    // --- Three devices, each on a small disk of its own, each with a clock that can be moved.
    const diskFull = (() => {
      for (let i = 0; i < AGENTS; i++) {
        const dir = join(root, `agent-${i}`);
        if (!mountSmallDisk(dir, DISK_MIB)) return false;
        mounts.push(dir);
      }
      return true;
    })();
    const clockSkew = libfaketime() !== undefined;
    if (!diskFull) say('cannot mount a tmpfs here (not root?): the disk-full fault is left out');
    if (!clockSkew) say('libfaketime is not installed (apt-get install faketime): the clock-skew fault is left out');
    const deviceIds = Array.from({ length: AGENTS }, (_, i) => `press-${i}`);
    const replicaOf = deviceIds.map((_, i) => i % REPLICAS);
    const dataDirs = deviceIds.map((_, i) => join(root, `agent-${i}`, 'data'));
    const configPaths = deviceIds.map((_, i) => join(root, `agent-${i}.json`));
    const writeConfig = async (i: number, token?: string) => {
      const config: AgentConfigInput = {
        controlPlane: { url: urls[replicaOf[i]!]!, ca: caFile },
        dataDir: dataDirs[i]!,
        ...(token ? { onboarding: { credential: { kind: 'token', token }, deviceId: deviceIds[i]! } } : {}),
        labels: { site: 'chaos' },
        artifacts: { source: 'registry', registries: { [registry!.host]: { plainHttp: true } } },
        gateway: { enabled: false },
        sync: { longPollSeconds: 5, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1, usageLogSeconds: 0 },
        runtime: { warmWorkers: 0 },
        // A short health window: rollouts wait for it on every device (docs/agent.md), and the
        // faults then also land on versions still on probation.
        lastKnownGood: { windowSeconds: 2, maxRestarts: 3 },
        nodeLock: { machineIdFile: join(root, `machine-id-${i}`) },
        logLevel: 'debug',
      };
      writeFileSync(configPaths[i]!, JSON.stringify(config));
    };
    for (let i = 0; i < AGENTS; i++) {
      writeFileSync(join(root, `machine-id-${i}`), randomBytes(16).toString('hex') + '\n');
      const token = (await withDatabase(db, (q) => createEnrollmentToken(q, silentLogger, { deviceId: deviceIds[i], ttlSeconds: 3600, by: 'chaos test' })))
        .token;
      await writeConfig(i, token);
      agents.push(
        agentProcess(
          deviceIds[i]!,
          () => configPaths[i]!,
          () => skewableClockEnv(join(root, `clock-${i}`)),
        ),
      );
    }
    await Promise.all(agents.map((a) => a.start()));

    // --- Version 1 everywhere, before any fault.
    await admins[0]!.call('POST', '/api/v1/admin/deployments', {
      id: DEPLOYMENT,
      app: 'meter',
      version: V1,
      grants: { log: {} },
      deviceIds,
      rollout: { batchSize: 1 },
    });
    let before: unknown;
    await until(
      async () => {
        before = await admins[0]!.call('GET', `/api/v1/admin/deployments/${DEPLOYMENT}/status`);
        return (before as { counts?: { installed?: number } }).counts?.installed === AGENTS;
      },
      90_000,
      `${AGENTS} devices on ${V1}`,
      () => JSON.stringify(before),
    );
    say(`set up in ${((Date.now() - started) / 1000).toFixed(1)} s; every device runs ${V1}`);

    // --- The rolling update, and the faults while it runs.
    const faults = planFaults(random, { agents: AGENTS, replicas: REPLICAS, windowMs: 15_000, agentKills: 3, diskFull, clockSkew });
    for (const f of faults) say(describeFault(f));
    const faultStart = Date.now();
    // The operator: while the faults run, one rolling update after another through the versions
    // (a rollout takes a second or two here; one alone would be over before most faults).
    let faulting = true;
    const rollouts: string[] = [];
    const operator = (async () => {
      for (let n = 1; faulting; n++) {
        const current = (await firstAnswer(admins, 'GET', `/api/v1/admin/deployments/${DEPLOYMENT}`)).body?.version;
        const version = VERSIONS[n % VERSIONS.length] === current ? VERSIONS[++n % VERSIONS.length]! : VERSIONS[n % VERSIONS.length]!;
        const step = await firstAnswer(admins, 'POST', `/api/v1/admin/deployments/${DEPLOYMENT}/rollouts`, { version, batchSize: 1 });
        rollouts.push(`${version}${step.ok ? '' : ` refused: ${step.error}`}`);
        if (!step.ok) await sleep(1000);
        await until(
          async () => !faulting || (await firstAnswer(admins, 'GET', `/api/v1/admin/deployments/${DEPLOYMENT}`)).body?.rollout?.state !== 'rolling',
          60_000,
          `the rollout to ${version} to end`,
        ).catch(() => {});
        const state = (await firstAnswer(admins, 'GET', `/api/v1/admin/deployments/${DEPLOYMENT}`)).body?.rollout?.state;
        // A paused rollout (a device reported a failure) is rolled back before the next, as an operator would.
        if (state === 'paused') {
          const back = await firstAnswer(admins, 'POST', `/api/v1/admin/deployments/${DEPLOYMENT}/rollbacks`, {});
          rollouts.push(`rollback${back.ok ? '' : ` refused: ${back.error}`}`);
        }
      }
    })();
    // One chain per target, so two faults on one process never overlap (a kill of an agent still starting).
    const chains = new Map<string, Promise<void>>();
    const inject = (f: Fault): Promise<void> => {
      const target = f.kind === 'kill-agent' || f.kind === 'fill-disk' ? `agent-${f.agent}` : f.kind === 'kill-replica' ? `replica-${f.replica}` : f.kind;
      const run = (chains.get(target) ?? Promise.resolve()).then(async () => {
        await sleep(faultStart + f.atMs - Date.now());
        await applyFault(f);
      });
      chains.set(
        target,
        run.catch(() => {}),
      );
      return run;
    };
    const applyFault = async (f: Fault): Promise<void> => {
      switch (f.kind) {
        case 'kill-agent': {
          await agents[f.agent]!.kill9();
          await sleep(f.downMs);
          replicaOf[f.agent] = f.nextReplica;
          await writeConfig(f.agent);
          await agents[f.agent]!.start();
          return;
        }
        case 'kill-replica': {
          await replicas[f.replica]!.kill9();
          await sleep(f.downMs);
          await replicas[f.replica]!.start();
          return;
        }
        case 'restart-postgres': {
          await pg!.crash();
          await sleep(f.downMs);
          await pg!.start();
          return;
        }
        case 'fill-disk': {
          const file = filler(join(root, `agent-${f.agent}`));
          const bytes = fillDisk(file);
          say(`agent ${f.agent}'s disk filled (${bytes} bytes written until ENOSPC)`);
          // A device that restarts on a full disk must still come up and run what it has.
          try {
            await agents[f.agent]!.kill9();
            await agents[f.agent]!.start();
            await sleep(f.holdMs);
          } finally {
            freeDisk(file);
          }
          return;
        }
        case 'skew-clock': {
          writeFileSync(join(root, `clock-${f.agent}`), `${f.hours < 0 ? '-' : '+'}${Math.abs(f.hours)}h\n`);
          skewedAt.set(f.agent, Date.now());
          return;
        }
      }
    };
    const skewedAt = new Map<number, number>();
    const outcomes = await Promise.allSettled(faults.map(inject));
    faulting = false;
    await operator;
    say(`rollouts while faulting: ${rollouts.join(', ')}`);
    const faultErrors = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${describeFault(faults[i]!)}: ${(o.reason as Error).message}`] : []));
    say(`faults done in ${((Date.now() - faultStart) / 1000).toFixed(1)} s${faultErrors.length ? `; ${faultErrors.length} could not be carried out` : ''}`);

    // --- The faults stop: whatever is down comes back (a process that died on its own is noted).
    for (let i = 0; i < AGENTS; i++) freeDisk(filler(join(root, `agent-${i}`)));
    for (const p of [...replicas, ...agents]) if (!p.running) await p.start();

    // --- Convergence: every device runs and reports the version placed on it, its queue empty.
    const convergedAfter = Date.now();
    const records: DeviceRecord[] = agents.map((a, i) => ({ deviceId: deviceIds[i]!, logs: a.logs, dataDir: dataDirs[i]! }));
    const lastGap = { text: '' };
    const converged = await until(
      async () => {
        const gap = await withDatabase(db, (q) => convergenceGap(q, records)).catch((err: Error) => `store: ${err.message}`);
        lastGap.text = gap ?? '';
        return gap === undefined;
      },
      120_000,
      'convergence',
      () => lastGap.text,
    ).then(
      () => true,
      (err: Error) => (say(err.message), false),
    );
    // Let the last log lines of the last deliveries arrive before reading the logs.
    await sleep(1000);
    const final = await withDatabase(db, (q) =>
      q.query<{ rollout_state: string; version: string }>('SELECT rollout_state, version FROM deployments WHERE id = $1', [DEPLOYMENT]),
    );
    say(
      `converged in ${((Date.now() - convergedAfter) / 1000).toFixed(1)} s after the faults; rollout ${final[0]?.rollout_state} at ${final[0]?.version}; whole run ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    // --- The invariants.
    const admitted = new Map(
      (await withDatabase(db, (q) => q.query<{ version: string; digest: string }>("SELECT version, digest FROM app_versions WHERE app_id = 'meter'"))).map(
        (r) => [r.version, r.digest],
      ),
    );
    const statusProblems: string[] = [];
    for (const d of records) statusProblems.push(...deviceQueueProblems(d), ...(await withDatabase(db, (q) => appliedStatusProblems(q, d, DEPLOYMENT))));
    const storeIssues = await withDatabase(db, storeProblems);
    const crashes = [...replicas, ...agents].flatMap((p) => p.crashes);
    // A database restart is an outage to retry (503), not an internal error in the log.
    const replicaErrors = replicas.flatMap((p) =>
      p.logs.filter((l) => typeof l.level === 'number' && l.level >= 50).map((l) => `${p.name}: ${l.msg} ${JSON.stringify(l.err ?? '').slice(0, 200)}`),
    );
    const runs = records.map(
      (d) =>
        `${d.deviceId}: ${componentsRun(d)
          .map((r) => `${r.version}@life${r.life}`)
          .join(' ')}`,
    );
    say(`components started: ${runs.join('; ')}`);
    for (const p of [...agents, ...replicas]) say(`${p.name} (${p.lives} lives, ${p.failedStarts.length} failed starts) warned: ${warnings(p)}`);
    for (const p of [...agents, ...replicas])
      for (const f of p.failedStarts)
        say(
          `failed start, started again: ${f
            .split('\n')
            .filter((l) => /Error|exited/.test(l))
            .slice(0, 3)
            .join(' | ')}`,
        );

    expect(faultErrors, 'every planned fault was carried out').toEqual([]);
    expect(crashes, 'no process died on its own').toEqual([]);
    expect(replicaErrors, 'no error-level log line on a replica').toEqual([]);
    expect(converged, `every device converged (last gap: ${lastGap.text})`).toBe(true);
    expect(unadmittedRuns(records, admitted), 'only admitted digests ran').toEqual([]);
    expect(statusProblems, 'no status report lost or applied twice').toEqual([]);
    expect(storeIssues, 'nothing half-applied in the store').toEqual([]);
    // The faults were real: processes restarted, every device's status writes were audited
    // (the status check above compared something).
    expect(agents.reduce((n, a) => n + a.lives, 0)).toBeGreaterThan(AGENTS);
    const audited = await withDatabase(db, (q) =>
      q.query<{ device_id: string; n: number }>('SELECT device_id, count(*)::int AS n FROM chaos_status_audit GROUP BY device_id'),
    );
    for (const id of deviceIds) expect(audited.find((r) => r.device_id === id)?.n ?? 0, `status writes audited for ${id}`).toBeGreaterThanOrEqual(2);
    // Each skewed device logged on its moved clock (pino stamps lines with the process's Date.now()).
    // Each skewed device lived on its moved clock: no line stamped on the real clock after the
    // move (libfaketime re-reads its file every second), and a moved line if it logged since
    // (a quiet agent may have logged nothing; waited for, bounded).
    for (const f of faults) {
      if (f.kind !== 'skew-clock') continue;
      const times = () => agents[f.agent]!.logs.map((l) => l.time).filter((t): t is number => typeof t === 'number');
      const moved = () => (f.hours > 0 ? times().some((t) => t > Date.now() + 50 * 60_000) : times().some((t) => t < started - 50 * 60_000));
      for (const deadline = Date.now() + 15_000; !moved() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 250));
      const since = skewedAt.get(f.agent)! + 2_000;
      expect(
        times().filter((t) => t > since && t <= Date.now()),
        `agent ${f.agent} logged nothing on the real clock after its clock moved`,
      ).toEqual([]);
      if (!moved()) say(`agent ${f.agent} logged nothing since its clock moved ${f.hours > 0 ? 'ahead' : 'behind'}`);
    }
  }, 300_000);
});

/**
 * Undefined once every device runs and has reported `installed` on the version placed on it, no
 * rollout is still moving, and every device's status queue is empty; otherwise what is missing.
 */
async function convergenceGap(q: Parameters<typeof storeProblems>[0], devices: readonly DeviceRecord[]): Promise<string | undefined> {
  const [d] = await q.query<{ rollout_state: string }>('SELECT rollout_state FROM deployments WHERE id = $1', [DEPLOYMENT]);
  if (d?.rollout_state === 'rolling') return 'the rollout is still rolling';
  const rows = await q.query<{ device_id: string; placed: string; reported: string | null; state: string | null }>(
    `SELECT p.device_id, p.version AS placed, s.version AS reported, s.state FROM placements p
     LEFT JOIN deployment_device_status s ON s.deployment_id = p.deployment_id AND s.device_id = p.device_id WHERE p.deployment_id = $1`,
    [DEPLOYMENT],
  );
  if (rows.length !== devices.length) return `${rows.length} placements`;
  for (const r of rows) {
    if (r.reported !== r.placed || r.state !== 'installed')
      return `${r.device_id}: placed ${r.placed}, reported ${r.state ?? 'nothing'} on ${r.reported ?? '-'}`;
    const device = devices.find((x) => x.deviceId === r.device_id)!;
    const running = componentsRun(device).at(-1);
    if (running?.version !== r.placed) return `${r.device_id}: runs ${running?.version ?? 'nothing'}, placed ${r.placed}`;
    const queued = statusQueueFile(device.dataDir)?.entries.length ?? 0;
    if (queued > 0) return `${r.device_id}: ${queued} status reports queued`;
  }
  return undefined;
}

/** The distinct warning and error messages of a process, with how often each came. */
function warnings(p: BerthProcess): string {
  const counts = new Map<string, number>();
  for (const l of p.logs)
    if (typeof l.level === 'number' && l.level >= 40)
      counts.set(`${l.msg}${l.code ? ` (${l.code})` : ''}`, (counts.get(`${l.msg}${l.code ? ` (${l.code})` : ''}`) ?? 0) + 1);
  return [...counts].map(([m, n]) => `${m} ×${n}`).join('; ') || 'nothing';
}

/** An operator request to whichever replica answers (one may be down): the first 2xx, else the last refusal. */
async function firstAnswer(
  admins: readonly OperatorClient[],
  method: string,
  path: string,
  body?: unknown,
): Promise<{ ok: boolean; body?: any; error?: string }> {
  let error = '';
  for (let round = 0; round < 20; round++) {
    for (const admin of admins) {
      try {
        return { ok: true, body: await admin.call(method, path, body) };
      } catch (err) {
        const status = (err as { details?: { status?: number } }).details?.status;
        error = (err as Error).message;
        // A refusal (4xx) is the answer; a failure to reach the replica or a 5xx is tried elsewhere.
        if (status !== undefined && status >= 400 && status < 500) return { ok: false, error };
      }
    }
    await sleep(500);
  }
  return { ok: false, error };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail() ? `: ${detail()}` : ''}`);
    await sleep(250);
  }
}
