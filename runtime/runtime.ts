import type { Digest } from '../common/digest.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BerthError } from '../common/errors.js';
import { silentLogger, type Logger } from '../common/logger.js';
import type { AppIdentity, AppLogRecord } from '../host-apis/app-context.js';
import { parseGrants } from '../host-apis/grants.js';
import type { GrantSet } from '../wire/grants.js';
import { DEFAULT_TIER, TIERS, type Tier } from '../wire/tier.js';
import type { Engine } from './engine/engine.js';
import { defaultEngine } from './engine/default-engine.js';
import { appDataDir, prepareApp } from './app-spec.js';
import { pruneAppData, type AppDataPruneResult } from './app-data.js';
import { MessageBroker } from './messaging/broker.js';
import { withGrantHandlers } from './grant-handlers.js';
import type { DeviceSigner } from '../trust/workload/token.js';
import { UsageLedger } from './accounting/ledger.js';
import type { BridgeHandlers } from './sandbox/bridge.js';
import { DEFAULT_LIMITS, type AppLimits, type AppSpec, type SandboxFactory, type SandboxHooks } from './sandbox/sandbox.js';
import { WorkerPool } from './sandbox/worker-pool.js';
import { WorkerSandbox } from './sandbox/worker-sandbox.js';
import { InstanceTier, type InstanceTierOptions } from './sandbox/instance-tier.js';
import { ProcessSandbox, type ProcessTierOptions } from './sandbox/process-sandbox.js';
import { AppSupervisor, DEFAULT_BACKOFF, type BackoffPolicy } from './supervisor.js';

export interface RuntimeOptions {
  /** Device state: compile cache and one data folder per app. */
  dataDir: string;
  engine?: Engine;
  logger?: Logger;
  /** Idle worker threads kept started for fast app starts (0 to start each on demand). */
  warmWorkers?: number;
  backoff?: BackoffPolicy;
  /** Usage accounts (docs/accounting.md); one is made when not given. */
  usage?: UsageLedger;
  instanceTier?: Partial<InstanceTierOptions>;
  processTier?: ProcessTierOptions;
  /** Signs the workload tokens of apps granted `identity` (read at each token, so a renewed key is used at once). */
  workloadSigner?: () => DeviceSigner | undefined;
  /** Per-instance host handlers answered on this thread (see SandboxHooks.hostHandlers); they win over the grants' own. */
  hostHandlers?: (spec: AppSpec) => BridgeHandlers;
}

/** The runtime's name for the wire's tier (wire/tier.ts). */
export type IsolationTier = Tier;

export interface StartAppOptions {
  vendor: string;
  app: string;
  grants: unknown;
  limits?: Partial<AppLimits>;
  /** The boundary around the app (docs/runtime.md); `worker` unless said otherwise. */
  tier?: IsolationTier;
}

/**
 * The device side's entry point: compile once, check imports against grants, and run each app
 * under its own supervisor in its own sandbox.
 */
export class Runtime {
  readonly engine: Engine;
  private readonly logger: Logger;
  private readonly pool: WorkerPool | undefined;
  private readonly apps = new Set<AppSupervisor>();
  private instanceTier: InstanceTier | undefined;
  /** The device's message broker (docs/messaging.md). */
  readonly broker: MessageBroker;
  /** Per-app usage accounts (docs/accounting.md). */
  readonly usage: UsageLedger;

  constructor(private readonly options: RuntimeOptions) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    this.engine = options.engine ?? defaultEngine(join(options.dataDir, 'cache'));
    this.logger = options.logger ?? silentLogger;
    this.usage = options.usage ?? new UsageLedger();
    this.broker = new MessageBroker(this.usage);
    const warm = options.warmWorkers ?? 0;
    this.pool = warm > 0 ? new WorkerPool(warm, { jsHeapMb: DEFAULT_LIMITS.jsHeapMb }) : undefined;
  }

  /** The folder that holds one app's state on this device. */
  appDataDir(vendor: string, app: string): string {
    return appDataDir(this.options.dataDir, vendor, app);
  }

  async startApp(bytes: Uint8Array, options: StartAppOptions): Promise<AppSupervisor> {
    const grants: GrantSet = parseGrants(options.grants);
    const { compiled, spec } = await prepareApp(this.engine, bytes, {
      vendor: options.vendor,
      app: options.app,
      grants,
      limits: options.limits,
      dataRoot: this.options.dataDir,
    });
    this.pool?.preload(compiled);
    const hooks: SandboxHooks = {
      log: (id, record) => this.appLog(id, record),
      hostHandlers: this.options.hostHandlers,
      usage: (id, report) => this.usage.report(id, report),
    };
    // Each instance gets the main-thread handlers of its grants (runtime/grant-handlers.ts).
    const services = { broker: this.broker, logger: this.logger, usage: this.usage, workloadSigner: this.options.workloadSigner };
    const factory = withGrantHandlers(this.tierFactory(options.tier ?? DEFAULT_TIER), services);
    const account = this.usage.account(options.vendor, options.app);
    account.recordEngine(compiled.engineName);
    const supervisor = new AppSupervisor(compiled, spec, factory, hooks, this.options.backoff ?? DEFAULT_BACKOFF, account);
    supervisor.on('stopped', (report) => {
      const level = report.reason === 'stopped' ? 'info' : 'warn';
      this.logger[level](
        { vendor: options.vendor, app: options.app, reason: report.reason, restartInMs: report.restartInMs, usage: supervisor.usage() },
        `app stopped: ${report.message}`,
      );
    });
    this.apps.add(supervisor);
    // Forget an app once it has stopped for good (an update stops the old version), so its
    // compiled component can be collected, and stop preloading it; a supervisor started again is tracked again.
    supervisor.on('stopped', (report) => {
      if (report.restartInMs !== undefined) return;
      this.apps.delete(supervisor);
      const { digest } = supervisor.spec;
      if ([...this.apps].some((a) => a.spec.digest === digest)) return;
      this.engine.evict?.(digest);
      // the pool's preload holds the compiled modules too; workers already warmed keep theirs
      this.pool?.forget(compiled);
    });
    supervisor.on('state', (state) => {
      if (state !== 'stopped') this.apps.add(supervisor);
    });
    await supervisor.start();
    return supervisor;
  }

  /** The apps this runtime supervises now: started, running or in back-off; not the ones stopped for good. */
  supervised(): AppSupervisor[] {
    return [...this.apps];
  }

  /**
   * Removes compiled components kept on disk but for `keep` and whatever a supervised app runs;
   * how many it removed. A device that updates its apps would otherwise keep every version it
   * ever ran.
   */
  pruneCompiled(keep: ReadonlySet<Digest>): number {
    const inUse = new Set<Digest>([...keep, ...[...this.apps].map((a) => a.spec.digest)]);
    return this.engine.prune?.(inUse) ?? 0;
  }

  /**
   * Marks the data folders of apps `planned` ("vendor/app") does not name, deletes those marked
   * longer than `graceMs` ago, and unmarks those planned again (runtime/app-data.ts). An app this
   * runtime supervises is never touched, whatever the plans say: its sandbox may be writing there.
   */
  pruneAppData(planned: ReadonlySet<string>, graceMs: number, now: number = Date.now()): Promise<AppDataPruneResult> {
    const supervised = new Set([...this.apps].map((a) => `${a.spec.identity.vendor}/${a.spec.identity.app}`));
    return pruneAppData(this.options.dataDir, { planned, supervised, graceMs, now });
  }

  /** Each start (and restart) of an app gets a new instance id, so its tokens and logs tell them apart. */
  private tierFactory(tier: IsolationTier): SandboxFactory {
    const fresh = (s: AppSpec): AppSpec => ({ ...s, identity: { ...s.identity, instance: randomUUID() } });
    switch (tier) {
      case 'worker':
        return (c, s, h) => WorkerSandbox.start(c, fresh(s), h, this.pool);
      case 'instance':
        this.instanceTier ??= new InstanceTier(this.options.instanceTier);
        return (c, s, h) => this.instanceTier!.start(c, fresh(s), h);
      case 'process':
        return (c, s, h) => ProcessSandbox.start(c, fresh(s), h, this.options.processTier);
      default:
        throw new BerthError('invalid-tier', `unknown isolation tier "${String(tier)}"; tiers: ${TIERS.join(', ')}`);
    }
  }

  private appLog(identity: AppIdentity, record: AppLogRecord): void {
    const { level, message, fields, source } = record;
    this.logger[level]({ vendor: identity.vendor, app: identity.app, instance: identity.instance, source, ...(fields ? { fields } : {}) }, message);
  }

  async close(): Promise<void> {
    await Promise.all([...this.apps].map((a) => a.stop()));
    this.apps.clear();
    await this.pool?.close();
    await this.instanceTier?.close();
  }
}
