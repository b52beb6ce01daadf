import { join } from 'node:path';
import type { Digest } from '../../common/digest.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import type { DeviceRollback } from '../../wire/margo/status.js';
import type { AdoptedStateStore } from './adopted-state.js';
import type { AgentConfig } from './config.js';
import type { ProbationSettings } from './probation.js';
import { planFromDocument, type DeploymentPlan } from './deployment-plan.js';

/**
 * One deployment updated from a version that ran well (`good`) to one not yet proven
 * (`candidate`): on probation, or rolled back because it failed it (docs/agent.md,
 * "Last-known-good").
 */
export interface LastKnownGoodRecord {
  deploymentId: string;
  /** The document (and its component's manifest digest) to go back to. */
  good: { digest: Digest; version: string; component: Digest };
  /** The document on probation, or the one the device went back from. */
  candidate: { digest: Digest; version: string };
  state: 'probation' | 'rolled-back';
  /** Set once rolled back: what the status report says. */
  rollback?: DeviceRollback & { message: string };
}

interface RecordsFile {
  records: LastKnownGoodRecord[];
}

const FILE = 'last-known-good.json';

/** The documents the records name as good: kept on disk beside the adopted state's own. */
export async function lastKnownGoodDocuments(desiredDir: string): Promise<Set<string>> {
  const text = await readTextFile(join(desiredDir, FILE)).catch(() => undefined);
  if (!text) return new Set();
  try {
    return new Set((JSON.parse(text) as RecordsFile).records.map((r) => r.good.digest));
  } catch {
    return new Set();
  }
}

/**
 * The last-known-good records, in `<data>/desired/last-known-good.json` (replaced atomically at
 * every change), beside the adopted state: a rollback made before a restart is still made after
 * it, and a version on probation when the agent stopped is watched again when it starts.
 */
export class LastKnownGood {
  private records = new Map<string, LastKnownGoodRecord>();
  private writing: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | undefined;
  private readonly path: string;

  constructor(
    dataDir: string,
    private readonly documents: AdoptedStateStore,
    private readonly deviceId: string,
    private readonly logger: Logger,
    /** How long after a failed write the latest records are written again. */
    private readonly retryMs = 5_000,
  ) {
    this.path = join(dataDir, 'desired', FILE);
  }

  async load(): Promise<void> {
    const text = await readTextFile(this.path);
    if (!text) return;
    try {
      this.records = new Map((JSON.parse(text) as RecordsFile).records.map((r) => [r.deploymentId, r]));
    } catch {
      this.logger.warn({ path: this.path }, 'last-known-good records unreadable; starting without them');
    }
  }

  record(deploymentId: string): LastKnownGoodRecord | undefined {
    return this.records.get(deploymentId);
  }

  /** Manifest digests of the good components: the artifact store keeps them while a record names them. */
  goodComponents(): Digest[] {
    return [...this.records.values()].map((r) => r.good.component);
  }

  async set(record: LastKnownGoodRecord): Promise<void> {
    this.records.set(record.deploymentId, record);
    await this.persist();
  }

  async clear(deploymentId: string): Promise<void> {
    if (this.records.delete(deploymentId)) await this.persist();
  }

  /** Drops the records of deployments no longer planned. */
  async retain(deploymentIds: ReadonlySet<string>): Promise<void> {
    const gone = [...this.records.keys()].filter((id) => !deploymentIds.has(id));
    for (const id of gone) this.records.delete(id);
    if (gone.length > 0) await this.persist();
  }

  /** The plan of the record's good document, or undefined (missing, corrupted, unreadable). */
  async goodPlan(record: LastKnownGoodRecord): Promise<DeploymentPlan | undefined> {
    const doc = await this.documents.document(record.deploymentId, record.good.digest);
    if (!doc) return undefined;
    try {
      return planFromDocument(doc, this.deviceId);
    } catch (err) {
      this.logger.warn({ deploymentId: record.deploymentId, err: errorMessage(err) }, 'the last known good document is unreadable');
      return undefined;
    }
  }

  /**
   * Writes in call order, each a snapshot taken when it was asked for. A write that fails (a full
   * disk) does not fail the update or the agent's start: the records in memory hold for this
   * process, the failure is logged, and the latest snapshot is written again a few seconds later.
   */
  private persist(): Promise<void> {
    const snapshot = JSON.stringify({ records: [...this.records.values()] } satisfies RecordsFile, null, 2) + '\n';
    this.writing = this.writing.then(() =>
      writePrivateFile(this.path, snapshot).catch((err: unknown) => {
        this.logger.warn({ path: this.path, err: errorMessage(err) }, 'could not save the last-known-good records; kept in memory, retrying');
        this.retryLater();
      }),
    );
    return this.writing;
  }

  private retryLater(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.persist();
    }, this.retryMs);
    this.retry.unref();
  }
}

/** The reconciler's last-known-good options from the agent config, records loaded from disk. */
export async function lastKnownGoodOf(
  config: AgentConfig,
  documents: AdoptedStateStore,
  deviceId: string,
  logger: Logger,
): Promise<{ settings: ProbationSettings; records: LastKnownGood }> {
  const records = new LastKnownGood(config.dataDir, documents, deviceId, logger);
  await records.load();
  return { settings: { windowMs: config.lastKnownGood.windowSeconds * 1000, maxRestarts: config.lastKnownGood.maxRestarts }, records };
}
