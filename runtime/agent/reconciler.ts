import { EventEmitter } from 'node:events';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import type { Digest } from '../../common/digest.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import type { ArtifactSource } from '../../oci/source.js';
import { ADVISORY_REFUSED_CODE, ROLLED_BACK_CODE, STATUS_MESSAGE_LIMIT, type DeploymentState, type DeviceRollback } from '../../wire/margo/status.js';
import type { HttpGateway } from '../gateway/gateway.js';
import { serveSupervisedApp } from '../gateway/supervised.js';
import type { Runtime } from '../runtime.js';
import type { AppSupervisor } from '../supervisor.js';
import type { AppUsage } from '../accounting/app-account.js';
import { obtainComponent, type ArtifactOutcome } from './artifact-fetcher.js';
import type { ArtifactStore } from './artifact-store.js';
import { refusedBy, type DeploymentPlan } from './deployment-plan.js';
import type { CompiledRoots } from '../../trust/signing/roots.js';
import type { LastKnownGood, LastKnownGoodRecord } from './last-known-good.js';
import { watchProbation, type ProbationSettings, type ProbationVerdict } from './probation.js';
import { truncateText } from '../../common/text.js';

interface RunningDeployment {
  plan: DeploymentPlan;
  supervisor: AppSupervisor;
  unroute: (() => void) | undefined;
  /** On probation after an update: the version to go back to, and how to stop watching. */
  probation?: { good: DeploymentPlan; cancel: () => void };
  /** Runs in place of this plan, which failed its probation: not tried again while the desired state names it. */
  rolledBackFrom?: DeploymentPlan;
}

/** Last-known-good (docs/agent.md): how updates are watched, and where the records are kept. */
export interface LastKnownGoodOptions {
  settings: ProbationSettings;
  records: LastKnownGood;
}

/** A change in one deployment's state on this device (what the status reporter sends). */
export interface DeploymentChange {
  deploymentId: string;
  /** Digest of the ApplicationDeployment document this change is about. */
  document: string;
  app: string;
  version: string;
  state: DeploymentState;
  error?: { code: string; source: string; message: string };
  /** The app's resource accounting (docs/accounting.md) when it ran. */
  usage?: AppUsage;
  /** The device went back from this version by itself (state `failed`, code `agent.rolled_back`). */
  rollback?: DeviceRollback;
}

export interface ReconcilerEvents {
  change: [DeploymentChange];
  /** A component was obtained for a start: from the local store, pulled and verified, or not (the agent's metrics). */
  artifact: [ArtifactOutcome];
}

/** Refusals that mean "this artifact must not run" rather than "try again later". */
const SECURITY_CODES = /^(signing\.|provenance\.|policy\.|oci\.digest-mismatch|agent\.policy_vendor)/;

/**
 * Makes the running apps match a list of deployment plans: starts new ones, updates changed
 * ones (the new version is started before the old one is stopped), stops removed ones. Each
 * deployment succeeds or fails on its own; a failed one is left out and tried again on the next
 * `apply` (the agent calls it again with back-off while any failed).
 */
export class Reconciler extends EventEmitter<ReconcilerEvents> {
  private readonly running = new Map<string, RunningDeployment>();
  private readonly failed = new Map<string, string>();
  /** Deployments not run because an advisory stops their digest, by the document that said so (reported once). */
  private readonly refused = new Map<string, Digest>();
  private appDataRemovals = 0;
  /** apply() and the rollbacks probation decides between two applies run one at a time. */
  private turn: Promise<unknown> = Promise.resolve();
  /** The source of the last apply, for a rollback whose good artifact left the store after all. */
  private source: ArtifactSource | undefined;
  /** The plans of the last apply. */
  private planned: readonly DeploymentPlan[] = [];

  constructor(
    private readonly runtime: Runtime,
    private readonly gateway: HttpGateway | undefined,
    private readonly store: ArtifactStore,
    private readonly logger: Logger,
    /** The fleet signing roots pinned at onboarding, for certificate-signed components. */
    private readonly signingRoots: () => CompiledRoots | undefined = () => undefined,
    /** Verified artifacts kept beyond those planned now, most recent first (for a quick rollback). */
    private readonly retainUnused = 2,
    /** How long the data of an app no plan names is kept before it is deleted (`runtime.removedAppDataDays`). */
    private readonly removedAppDataMs = 7 * 86_400_000,
    /** Absent: an update that crashes stays (no probation, no rollback). */
    private readonly lastKnownGood?: LastKnownGoodOptions,
  ) {
    super();
  }

  /** Deployments that could not be brought to their plan, with the reason. */
  failures(): ReadonlyMap<string, string> {
    return this.failed;
  }

  apps(): { deploymentId: string; plan: DeploymentPlan; supervisor: AppSupervisor }[] {
    return [...this.running.entries()].map(([deploymentId, r]) => ({ deploymentId, plan: r.plan, supervisor: r.supervisor }));
  }

  /** `source` undefined = offline: only artifacts already verified and stored can be started. */
  apply(plans: readonly DeploymentPlan[], source: ArtifactSource | undefined): Promise<void> {
    return this.exclusive(async () => {
      this.source = source;
      this.planned = plans;
      const wanted = new Map(plans.map((p) => [p.deploymentId, p]));
      for (const [id, r] of [...this.running]) {
        if (!wanted.has(id)) await this.remove(id, r);
      }
      for (const id of [...this.failed.keys()]) if (!wanted.has(id)) this.failed.delete(id);
      for (const id of [...this.refused.keys()]) if (!wanted.has(id)) this.refused.delete(id);
      await this.lastKnownGood?.records.retain(new Set(wanted.keys()));
      for (const plan of plans) await this.bringTo(plan, source);
    });
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const next = this.turn.catch(() => undefined).then(task);
    this.turn = next;
    return next;
  }

  private async bringTo(plan: DeploymentPlan, source: ArtifactSource | undefined): Promise<void> {
    const current = this.running.get(plan.deploymentId);
    const advisories = refusedBy(plan, plan.component.ref.digest);
    if (advisories) return this.refuse(plan, current, advisories);
    this.refused.delete(plan.deploymentId);
    // Rolled back from this very document: not tried again until the desired state changes (no flapping).
    if (current?.rolledBackFrom?.documentDigest === plan.documentDigest) return;
    if (current && current.plan.documentDigest === plan.documentDigest) {
      if (current.rolledBackFrom) await this.settle(current);
      return;
    }
    // Only the list of stopped digests changed (an advisory about another version): no restart.
    if (current && !current.rolledBackFrom && sameButRefusals(current.plan, plan)) {
      current.plan = plan;
      if (!current.probation) this.change(plan, 'installed', undefined, current.supervisor.usage());
      return;
    }
    const record = current ? undefined : this.lastKnownGood?.records.record(plan.deploymentId);
    // A good version an advisory has since stopped is no fallback: the plan runs as if new.
    const forThis = record?.candidate.digest === plan.documentDigest && !refusedBy(plan, record.good.component) ? record : undefined;
    if (forThis?.state === 'rolled-back') return this.restoreRollback(plan, forThis, source);
    await this.install(plan, current, source, forThis && (await this.lastKnownGood?.records.goodPlan(forThis)));
  }

  /**
   * The signed document says an advisory stops this digest: whatever runs for the deployment is
   * stopped and nothing is started, online or offline, and the status says which advisory.
   */
  private async refuse(plan: DeploymentPlan, current: RunningDeployment | undefined, advisories: readonly string[]): Promise<void> {
    if (!current && this.refused.get(plan.deploymentId) === plan.documentDigest) return;
    if (current) {
      current.probation?.cancel();
      current.unroute?.();
      await current.supervisor.stop();
      this.running.delete(plan.deploymentId);
    }
    this.failed.delete(plan.deploymentId);
    await this.lastKnownGood?.records.clear(plan.deploymentId);
    this.refused.set(plan.deploymentId, plan.documentDigest);
    const digest = plan.component.ref.digest;
    const message = `version ${plan.version} (${digest}) is stopped by security advisory ${advisories.join(', ')}; it is not run on this device`;
    securityEvent(this.logger, 'agent.advisory_refused', {
      deploymentId: plan.deploymentId,
      vendor: plan.vendor,
      app: plan.app,
      version: plan.version,
      digest,
      advisories,
      stopped: current !== undefined,
    });
    this.change(
      plan,
      'failed',
      { code: ADVISORY_REFUSED_CODE, source: 'device', message: truncateText(message, STATUS_MESSAGE_LIMIT, '…') },
      current?.supervisor.usage(),
    );
  }

  /**
   * Components no plan names any more leave the disk (the artifact store and the engine's
   * compile cache), but for the few most recent: an edge device updating its apps for years
   * must not fill its disk with every version it ever ran. Called once a state is adopted (and
   * saved), so it delays nothing a deployment waits for; a failure is logged and left for the
   * next change.
   */
  async collectGarbage(plans: readonly DeploymentPlan[]): Promise<void> {
    await this.pruneArtifacts(plans);
    await this.pruneAppData(plans);
  }

  private async pruneArtifacts(plans: readonly DeploymentPlan[]): Promise<void> {
    try {
      // A version on probation, or rolled back to, keeps the good one's artifact whatever the retention.
      const keep = [...plans.map((p) => p.component.ref.digest), ...(this.lastKnownGood?.records.goodComponents() ?? [])];
      const pruned = await this.store.prune(new Set(keep), this.retainUnused);
      const compiled = this.runtime.pruneCompiled(pruned.components);
      if (pruned.removed > 0 || compiled > 0)
        this.logger.info({ artifacts: pruned.removed, bytesFreed: pruned.bytesFreed, compiled }, 'removed components no deployment uses');
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'could not remove unused components; will try after the next change');
    }
  }

  /** How many removed apps' data folders this agent deleted since it started. */
  appDataRemoved(): number {
    return this.appDataRemovals;
  }

  /**
   * The data of apps no plan names is kept for the grace period, then deleted (docs/agent.md,
   * "Removed apps' data"). `plans` must be every deployment of the adopted state: an app left out
   * would start its countdown. Never throws: a failure is logged and the next clean-up tries again.
   */
  async pruneAppData(plans: readonly DeploymentPlan[]): Promise<void> {
    const days = this.removedAppDataMs / 86_400_000;
    try {
      const r = await this.runtime.pruneAppData(new Set(plans.map((p) => `${p.vendor}/${p.app}`)), this.removedAppDataMs);
      for (const a of r.marked)
        this.logger.info({ vendor: a.vendor, app: a.app, keptForDays: days }, 'no deployment names this app any more; its data is kept for the grace period');
      for (const a of r.replanned) this.logger.info({ vendor: a.vendor, app: a.app }, 'app deployed again within the grace period; its data is kept');
      for (const a of r.removed)
        this.logger.info(
          { vendor: a.vendor, app: a.app, bytesFreed: a.bytes, unplannedSince: a.unplannedSince },
          'removed the data of an app no deployment names',
        );
      for (const e of r.leftAlone)
        this.logger.warn({ entry: e.entry, reason: e.reason }, "left alone an entry among the apps' data folders that the runtime did not make");
      for (const f of r.failed) this.logger.warn({ entry: f.entry, err: f.error }, "could not clean up an app's data folder; will try at the next clean-up");
      if (r.clockUnset) this.logger.warn("the clock is not set; removed apps' data is neither marked nor deleted until it is");
      this.appDataRemovals += r.removed.length;
      if (r.removed.length > 0)
        this.logger.info(
          { removed: r.removed.length, bytesFreed: r.removed.reduce((n, a) => n + a.bytes, 0), removedSinceStart: this.appDataRemovals },
          "removed apps' data past the grace period",
        );
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, "could not clean up removed apps' data; will try at the next clean-up");
    }
  }

  /**
   * Each steadily installed app's state told again with its usage now, for the control plane's
   * usage history (docs/accounting.md): between state changes it would otherwise hear nothing.
   * Apps on probation or rolled back are left out: their state is the next change's to tell.
   */
  reportUsage(): void {
    for (const entry of this.running.values())
      if (!entry.probation && !entry.rolledBackFrom) this.change(entry.plan, 'installed', undefined, entry.supervisor.usage());
  }

  private change(plan: DeploymentPlan, state: DeploymentState, error?: DeploymentChange['error'], usage?: AppUsage, rollback?: DeviceRollback): void {
    this.emit('change', {
      deploymentId: plan.deploymentId,
      document: plan.documentDigest,
      app: plan.app,
      version: plan.version,
      state,
      ...(error ? { error } : {}),
      ...(usage ? { usage } : {}),
      ...(rollback ? { rollback } : {}),
    });
  }

  /** The plan's verified component; how that went is told as an `artifact` event. */
  private obtain(plan: DeploymentPlan, source: ArtifactSource | undefined): Promise<Buffer> {
    return obtainComponent(plan, this.store, source, this.logger, this.signingRoots(), (outcome) => this.emit('artifact', outcome));
  }

  private start(plan: DeploymentPlan, component: Buffer): Promise<AppSupervisor> {
    return this.runtime.startApp(component, {
      vendor: plan.vendor,
      app: plan.app,
      grants: plan.grants,
      tier: plan.tier,
      ...(plan.limits ? { limits: plan.limits } : {}),
    });
  }

  private route(supervisor: AppSupervisor): (() => void) | undefined {
    return this.gateway && supervisor.spec.grants['inbound-http'] ? serveSupervisedApp(this.gateway, supervisor) : undefined;
  }

  /**
   * `resumedGood`: the agent restarted while this plan was on probation after an update from it;
   * the plan is watched again (a fresh window) with it as the version to go back to.
   */
  private async install(
    plan: DeploymentPlan,
    previous: RunningDeployment | undefined,
    source: ArtifactSource | undefined,
    resumedGood?: DeploymentPlan,
  ): Promise<void> {
    const log = { deploymentId: plan.deploymentId, vendor: plan.vendor, app: plan.app, version: plan.version };
    this.change(plan, 'installing');
    let supervisor: AppSupervisor;
    try {
      const component = await this.obtain(plan, source);
      supervisor = await this.start(plan, component);
    } catch (err) {
      const code = errorCode(err, 'agent.install_failed');
      const message = errorMessage(err);
      if (SECURITY_CODES.test(code)) securityEvent(this.logger, 'agent.artifact_refused', { ...log, code, message });
      else this.logger.error({ ...log, code, err: message }, 'deployment could not be installed');
      this.failed.set(plan.deploymentId, `${code}: ${message}`);
      this.change(plan, 'failed', { code, source: 'device', message: truncateText(message, STATUS_MESSAGE_LIMIT, '…') });
      return;
    }
    // The new version is up: move the route, then stop the old one.
    let unroute: (() => void) | undefined;
    try {
      previous?.unroute?.();
      unroute = this.route(supervisor);
    } catch (err) {
      await supervisor.stop();
      if (previous?.unroute && this.gateway && previous.supervisor.spec.grants['inbound-http'])
        previous.unroute = serveSupervisedApp(this.gateway, previous.supervisor);
      this.failed.set(plan.deploymentId, errorMessage(err));
      this.change(plan, 'failed', {
        code: errorCode(err, 'agent.route'),
        source: 'device',
        message: truncateText(errorMessage(err), STATUS_MESSAGE_LIMIT, '…'),
      });
      return;
    }
    // What to go back to if this one fails its probation: not a version still on probation itself.
    // Recorded before the old one stops, so a crash in between still finds it at the restart.
    // An advisory may stop the version before (a rollback advisory moves devices off it): then there is none.
    const before = previous ? (previous.probation?.good ?? previous.plan) : resumedGood;
    const good = before && !refusedBy(plan, before.component.ref.digest) ? before : undefined;
    const lkg = good && this.lastKnownGood && this.lastKnownGood.settings.windowMs > 0 ? this.lastKnownGood : undefined;
    if (good && lkg) await lkg.records.set(probationRecord(plan, good));
    else await this.lastKnownGood?.records.clear(plan.deploymentId);
    previous?.probation?.cancel();
    if (previous) await previous.supervisor.stop();
    const entry: RunningDeployment = { plan, supervisor, unroute };
    this.running.set(plan.deploymentId, entry);
    this.failed.delete(plan.deploymentId);
    this.logger.info(
      { ...log, tier: plan.tier, digest: plan.component.ref.digest, updatedFrom: previous?.plan.version },
      previous ? 'app updated' : 'app started',
    );
    // An update is `installed` once it passed its probation: until then it is still `installing`,
    // so a rollout's wave waits for the health window of its devices (docs/agent.md).
    if (good && lkg) return this.watch(entry, good, lkg);
    this.change(plan, 'installed', undefined, supervisor.usage());
  }

  private watch(entry: RunningDeployment, good: DeploymentPlan, lkg: LastKnownGoodOptions): void {
    const { plan } = entry;
    const cancel = watchProbation(entry.supervisor, lkg.settings, {
      failed: (verdict) =>
        void this.exclusive(() => this.goBack(entry, verdict)).catch((err: unknown) =>
          this.logger.error({ deploymentId: plan.deploymentId, err: errorMessage(err) }, 'rollback to the last known good version failed'),
        ),
      passed: () => void this.exclusive(() => this.passed(entry)).catch(() => undefined),
    });
    entry.probation = { good, cancel };
    this.logger.info(
      {
        deploymentId: plan.deploymentId,
        version: plan.version,
        goodVersion: good.version,
        windowMs: lkg.settings.windowMs,
        maxRestarts: lkg.settings.maxRestarts,
      },
      'app on probation after its update',
    );
  }

  private async passed(entry: RunningDeployment): Promise<void> {
    if (this.running.get(entry.plan.deploymentId) !== entry || !entry.probation) return;
    entry.probation = undefined;
    await this.lastKnownGood?.records.clear(entry.plan.deploymentId);
    this.logger.info({ deploymentId: entry.plan.deploymentId, version: entry.plan.version }, 'app passed its probation');
    this.change(entry.plan, 'installed', undefined, entry.supervisor.usage());
    // The version it replaced is no longer kept for it (its document goes with the next adopted state).
    await this.pruneArtifacts(this.planned);
  }

  /** The update failed its probation: the good version is started again, the new one stopped, and that is reported. */
  private async goBack(entry: RunningDeployment, verdict: ProbationVerdict): Promise<void> {
    const { plan } = entry;
    const id = plan.deploymentId;
    const good = entry.probation?.good;
    const lkg = this.lastKnownGood;
    if (this.running.get(id) !== entry || !good || !lkg) return;
    entry.probation = undefined;
    const log = {
      deploymentId: id,
      vendor: plan.vendor,
      app: plan.app,
      version: plan.version,
      goodVersion: good.version,
      reason: verdict.reason,
      restarts: verdict.restarts,
    };
    let supervisor: AppSupervisor;
    try {
      supervisor = await this.start(good, await this.obtain(good, this.source));
    } catch (err) {
      this.logger.error(
        { ...log, code: errorCode(err, 'agent.install_failed'), err: errorMessage(err) },
        'the last known good version could not be started; the new one stays',
      );
      await lkg.records.clear(id);
      // It keeps being restarted with back-off, and the rollout hears that it failed.
      this.change(
        plan,
        'failed',
        {
          code: 'agent.probation_failed',
          source: 'device',
          message: `version ${plan.version} failed its probation (${verdict.reason}) and version ${good.version} could not be started again: ${truncateText(errorMessage(err), 1000)}`,
        },
        entry.supervisor.usage(),
      );
      return;
    }
    entry.unroute?.();
    const unroute = this.route(supervisor);
    await entry.supervisor.stop();
    this.running.set(id, { plan: good, supervisor, unroute, rolledBackFrom: plan });
    const rollback: DeviceRollback = {
      fromVersion: plan.version,
      toVersion: good.version,
      reason: verdict.reason,
      restarts: verdict.restarts,
      at: new Date().toISOString(),
    };
    const message = rollbackMessage(rollback, verdict, lkg.settings);
    await lkg.records.set({ ...probationRecord(plan, good), state: 'rolled-back', rollback: { ...rollback, message } });
    this.logger.warn({ ...log, lastStop: verdict.lastStop }, 'app rolled back to its last known good version');
    this.change(plan, 'failed', { code: ROLLED_BACK_CODE, source: 'device', message }, entry.supervisor.usage(), rollback);
  }

  /** After a restart: a deployment rolled back before it runs its good version again, not the one it went back from. */
  private async restoreRollback(plan: DeploymentPlan, record: LastKnownGoodRecord, source: ArtifactSource | undefined): Promise<void> {
    const good = await this.lastKnownGood?.records.goodPlan(record);
    let supervisor: AppSupervisor;
    try {
      if (!good) throw new BerthError('agent.last_known_good_missing', `the document of version ${record.good.version} is missing or corrupted`);
      supervisor = await this.start(good, await this.obtain(good, source));
    } catch (err) {
      // Retried with the failed ones; the version rolled back from is not started meanwhile.
      const code = errorCode(err, 'agent.install_failed');
      this.logger.error(
        { deploymentId: plan.deploymentId, goodVersion: record.good.version, code, err: errorMessage(err) },
        'the last known good version could not be started again',
      );
      this.failed.set(plan.deploymentId, `${code}: ${errorMessage(err)}`);
      return;
    }
    this.running.set(plan.deploymentId, { plan: good, supervisor, unroute: this.route(supervisor), rolledBackFrom: plan });
    this.failed.delete(plan.deploymentId);
    this.logger.info(
      { deploymentId: plan.deploymentId, version: good.version, rolledBackFrom: plan.version },
      'rolled-back deployment restored at its last known good version',
    );
    // The same report as before the restart: the status queue knows it and does not send it again.
    if (record.rollback) {
      const { message, ...rollback } = record.rollback;
      this.change(plan, 'failed', { code: ROLLED_BACK_CODE, source: 'device', message }, undefined, rollback);
    }
  }

  /** The desired state now names the version the device went back to: it is simply installed. */
  private async settle(current: RunningDeployment): Promise<void> {
    current.rolledBackFrom = undefined;
    await this.lastKnownGood?.records.clear(current.plan.deploymentId);
    this.logger.info({ deploymentId: current.plan.deploymentId, version: current.plan.version }, 'the desired state is the version rolled back to');
    this.change(current.plan, 'installed', undefined, current.supervisor.usage());
  }

  private async remove(id: string, r: RunningDeployment): Promise<void> {
    r.probation?.cancel();
    await this.lastKnownGood?.records.clear(id);
    // A rolled-back deployment is reported on for the document the desired state named.
    const reported = r.rolledBackFrom ?? r.plan;
    this.change(reported, 'removing');
    r.unroute?.();
    await r.supervisor.stop();
    this.running.delete(id);
    this.logger.info({ deploymentId: id, vendor: r.plan.vendor, app: r.plan.app, version: r.plan.version, usage: r.supervisor.usage() }, 'app removed');
    this.change(reported, 'removed', undefined, r.supervisor.usage());
  }

  async stopAll(): Promise<void> {
    for (const r of this.running.values()) r.probation?.cancel();
    // A rollback already decided finishes first, so nothing starts after the stop.
    await this.turn.catch(() => undefined);
    for (const r of this.running.values()) r.unroute?.();
    this.running.clear();
  }
}

/** Whether two plans run the same thing and differ at most in their documents' refused digests. */
function sameButRefusals(a: DeploymentPlan, b: DeploymentPlan): boolean {
  const essence = (p: DeploymentPlan) =>
    JSON.stringify([p.deploymentId, p.vendor, p.app, p.version, p.component, p.grants, p.tier, p.limits ?? null, p.trustPolicy]);
  return essence(a) === essence(b);
}

function probationRecord(plan: DeploymentPlan, good: DeploymentPlan): LastKnownGoodRecord {
  return {
    deploymentId: plan.deploymentId,
    good: { digest: good.documentDigest, version: good.version, component: good.component.ref.digest },
    candidate: { digest: plan.documentDigest, version: plan.version },
    state: 'probation',
  };
}

/** What the status report says of a rollback: from what, to what, why (code points, never half a pair). */
function rollbackMessage(r: DeviceRollback, verdict: ProbationVerdict, settings: ProbationSettings): string {
  const why = r.reason === 'restart-storm' ? `restarted ${r.restarts} times within its ${settings.windowMs / 1000} s health window` : 'did not start';
  const last = verdict.lastStop ? ` (last: ${Array.from(verdict.lastStop).slice(0, 1000).join('')})` : '';
  return `version ${r.fromVersion} ${why}${last}; rolled back to ${r.toVersion}`;
}
