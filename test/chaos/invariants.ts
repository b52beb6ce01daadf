import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLine } from './processes.js';

/** What the checks read of one device: its id, everything its agent logged over all its lives, its data directory. */
export interface DeviceRecord {
  deviceId: string;
  logs: readonly LogLine[];
  dataDir: string;
}

export type Db = { query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> };

const STARTED = new Set(['app started', 'app updated']);

/** Every component a device started: the version and digest from its own log line. */
export function componentsRun(d: DeviceRecord): { deploymentId: string; version: string; digest: string; life: number }[] {
  return d.logs
    .filter((l) => STARTED.has(l.msg))
    .map((l) => ({ deploymentId: String(l.deploymentId), version: String(l.version), digest: String(l.digest), life: l.life }));
}

/** Invariant 1: a device ran only digests the catalog admitted (and so verified, signature included) for that version. */
export function unadmittedRuns(devices: readonly DeviceRecord[], admitted: ReadonlyMap<string, string>): string[] {
  const wrong: string[] = [];
  for (const d of devices) {
    for (const run of componentsRun(d)) {
      if (admitted.get(run.version) !== run.digest)
        wrong.push(`${d.deviceId} ran ${run.version} as ${run.digest} (admitted: ${admitted.get(run.version) ?? 'no such version'})`);
    }
  }
  return wrong;
}

interface QueueFile {
  nextSeq: number;
  entries: { seq: number }[];
}

export function statusQueueFile(dataDir: string): QueueFile | undefined {
  const path = join(dataDir, 'status-queue.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as QueueFile) : undefined;
}

interface Sent {
  seq: number;
  state: string;
  adopted: number;
  life: number;
}

const sentOf = (l: LogLine): Sent => ({ seq: Number(l.seq), state: String(l.state), adopted: Number(l.adoptedManifestVersion), life: l.life });
const key = (s: Pick<Sent, 'state' | 'adopted'>) => `${s.state}@${s.adopted}`;

/**
 * Invariant 3, the device's side: nothing it queued is lost (every durable entry, numbers 1 to
 * nextSeq-1, was accepted or refused for good, and the queue is empty now), and nothing is sent
 * again after it was accepted, except the one report whose answer arrived just before a kill
 * (the queue file could not be updated: at-least-once delivery, docs/agent.md).
 */
export function deviceQueueProblems(d: DeviceRecord): string[] {
  const problems: string[] = [];
  const file = statusQueueFile(d.dataDir);
  if (!file) return [`${d.deviceId}: no status-queue.json`];
  if (file.entries.length > 0)
    problems.push(`${d.deviceId}: ${file.entries.length} status reports still queued (${file.entries.map((e) => e.seq).join(', ')})`);
  const done = new Set(
    d.logs.filter((l) => l.msg === 'status reported' || /^(removal report not recorded|status report refused)/.test(String(l.msg))).map((l) => Number(l.seq)),
  );
  for (let seq = 1; seq < file.nextSeq; seq++)
    if (!done.has(seq) && !file.entries.some((e) => e.seq === seq)) problems.push(`${d.deviceId}: status report ${seq} was queued and never delivered`);
  const accepted = d.logs.filter((l) => l.msg === 'status reported').map(sentOf);
  for (const a of accepted) {
    const lastOfItsLife = accepted.filter((b) => b.life === a.life).at(-1) === a;
    const again = d.logs
      .filter((l) => l.msg === 'sending status report' && l.life > a.life)
      .map(sentOf)
      .filter((s) => s.seq === a.seq && key(s) === key(a));
    if (again.length > 0 && !lastOfItsLife)
      problems.push(`${d.deviceId}: status report ${a.seq} (${key(a)}) accepted in life ${a.life} and sent again in life ${again[0]!.life}`);
  }
  return problems;
}

/**
 * Invariant 3, the control plane's side: every write of the device's status row (recorded by a
 * trigger on deployment_device_status) matches a send of the device, in order, each send used at
 * most once: a report applied twice, or an old one applied after a newer one, has no send to match.
 * And the row left at the end is the device's last accepted report.
 */
export async function appliedStatusProblems(db: Db, d: DeviceRecord, deploymentId: string): Promise<string[]> {
  const problems: string[] = [];
  const applied = await db.query<{ state: string; adopted: string }>(
    'SELECT state, adopted::text AS adopted FROM chaos_status_audit WHERE device_id = $1 AND deployment_id = $2 ORDER BY id',
    [d.deviceId, deploymentId],
  );
  const sends = d.logs.filter((l) => l.msg === 'sending status report' && l.deploymentId === deploymentId).map(sentOf);
  let at = 0;
  for (const row of applied) {
    const k = `${row.state}@${row.adopted}`;
    while (at < sends.length && key(sends[at]!) !== k) at++;
    if (at === sends.length) {
      problems.push(
        `${d.deviceId}: the control plane applied ${k} with no send of the device left to account for it (applied: ${applied.map((r) => `${r.state}@${r.adopted}`).join(' ')}; sent: ${sends.map(key).join(' ')})`,
      );
      break;
    }
    at++;
  }
  const accepted = d.logs
    .filter((l) => l.msg === 'status reported' && l.deploymentId === deploymentId)
    .map(sentOf)
    .at(-1);
  const [row] = await db.query<{ state: string; adopted: string }>(
    'SELECT state, adopted_manifest_version::text AS adopted FROM deployment_device_status WHERE device_id = $1 AND deployment_id = $2',
    [d.deviceId, deploymentId],
  );
  if (!accepted || !row || key(accepted) !== `${row.state}@${row.adopted}`) {
    problems.push(
      `${d.deviceId}: the control plane holds ${row ? `${row.state}@${row.adopted}` : 'no status'} but the device's last accepted report is ${accepted ? key(accepted) : 'none'}`,
    );
  }
  return problems;
}

/** Audit of every write to deployment_device_status, installed by the test (observation only). */
export const STATUS_AUDIT_SQL = [
  `CREATE TABLE IF NOT EXISTS chaos_status_audit (id bigserial PRIMARY KEY, deployment_id text, device_id text, version text, state text, adopted bigint, at timestamptz DEFAULT clock_timestamp())`,
  `CREATE OR REPLACE FUNCTION chaos_status_audit() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       INSERT INTO chaos_status_audit (deployment_id, device_id, version, state, adopted) VALUES (NEW.deployment_id, NEW.device_id, NEW.version, NEW.state, NEW.adopted_manifest_version);
       RETURN NEW;
     END $$`,
  `DROP TRIGGER IF EXISTS chaos_status_audit ON deployment_device_status`,
  `CREATE TRIGGER chaos_status_audit AFTER INSERT OR UPDATE ON deployment_device_status FOR EACH ROW EXECUTE FUNCTION chaos_status_audit()`,
];

/**
 * Invariant 4: nothing half-applied in the store. Every placement names a catalog version and is
 * one of the versions its deployment's rollout allows; the rollout's columns agree with its
 * state; every placement is in its device's current signed manifest, through a document that
 * names the placed version's digest; every status row names a catalog version.
 */
export async function storeProblems(db: Db): Promise<string[]> {
  const problems: string[] = [];
  const add = (what: string, rows: object[]) => rows.length > 0 && problems.push(`${what}: ${JSON.stringify(rows)}`);
  add(
    'placements of a version the catalog does not have',
    await db.query(
      `SELECT p.* FROM placements p JOIN deployments d ON d.id = p.deployment_id LEFT JOIN app_versions v ON v.app_id = d.app_id AND v.version = p.version WHERE v.version IS NULL`,
    ),
  );
  add(
    'placements outside their rollout',
    await db.query(
      `SELECT p.deployment_id, p.device_id, p.version, d.version AS deployment_version, d.rollout_state, d.target_version FROM placements p JOIN deployments d ON d.id = p.deployment_id
     WHERE NOT (p.version = d.version OR (d.rollout_state IN ('rolling', 'paused') AND p.version = d.target_version))`,
    ),
  );
  add(
    'rollouts whose columns disagree with their state',
    await db.query(
      `SELECT id, rollout_state, version, target_version, previous_version FROM deployments
     WHERE (rollout_state IN ('rolling', 'paused') AND (target_version IS NULL OR previous_version IS NULL OR target_version = version))
        OR (rollout_state IN ('none', 'done', 'rolled-back') AND target_version IS NOT NULL)`,
    ),
  );
  add(
    'status rows of a version the catalog does not have',
    await db.query(
      `SELECT s.* FROM deployment_device_status s JOIN deployments d ON d.id = s.deployment_id LEFT JOIN app_versions v ON v.app_id = d.app_id AND v.version = s.version WHERE v.version IS NULL`,
    ),
  );
  const placed = await db.query<{ deployment_id: string; device_id: string; digest: string; manifest: Buffer | null }>(
    `SELECT p.deployment_id, p.device_id, v.digest, m.manifest_bytes AS manifest FROM placements p JOIN deployments d ON d.id = p.deployment_id
     JOIN app_versions v ON v.app_id = d.app_id AND v.version = p.version LEFT JOIN device_desired_state m ON m.device_id = p.device_id`,
  );
  for (const p of placed) {
    const manifest = p.manifest ? (JSON.parse(p.manifest.toString('utf8')) as { deployments: { deploymentId: string; digest: string }[] }) : undefined;
    const entry = manifest?.deployments.find((x) => x.deploymentId === p.deployment_id);
    if (!entry) {
      problems.push(`${p.device_id}: placed ${p.deployment_id} is not in its desired state`);
      continue;
    }
    const [doc] = await db.query<{ bytes: Buffer }>('SELECT bytes FROM desired_state_documents WHERE digest = $1', [entry.digest]);
    if (!doc || !doc.bytes.toString('utf8').includes(p.digest))
      problems.push(`${p.device_id}: the document of ${p.deployment_id} in its desired state does not name the placed component ${p.digest}`);
  }
  return problems;
}
