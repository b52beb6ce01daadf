import { EventEmitter } from 'node:events';
import { errorCode, errorMessage } from '../../common/errors.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import type { ArtifactSource } from '../../oci/source.js';
import { STATUS_MESSAGE_LIMIT, type DeploymentState } from '../../wire/margo/status.js';
import type { HttpGateway } from '../gateway/gateway.js';
import { serveSupervisedApp } from '../gateway/supervised.js';
import type { Runtime } from '../runtime.js';
import type { AppSupervisor } from '../supervisor.js';
import type { AppUsage } from '../accounting/app-account.js';
import { obtainComponent } from './artifact-fetcher.js';
import type { ArtifactStore } from './artifact-store.js';
import type { DeploymentPlan } from './deployment-plan.js';
import type { CompiledRoots } from '../../trust/signing/roots.js';
import { truncateText } from '../../common/text.js';

interface RunningDeployment {
  plan: DeploymentPlan;
  supervisor: AppSupervisor;
  unroute: (() => void) | undefined;
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
}

export interface ReconcilerEvents {
  change: [DeploymentChange];
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
  private appDataRemovals = 0;

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
  async apply(plans: readonly DeploymentPlan[], source: ArtifactSource | undefined): Promise<void> {
    const wanted = new Map(plans.map((p) => [p.deploymentId, p]));
    for (const [id, r] of [...this.running]) {
      if (!wanted.has(id)) await this.remove(id, r);
    }
    for (const id of [...this.failed.keys()]) if (!wanted.has(id)) this.failed.delete(id);
    for (const plan of plans) {
      const current = this.running.get(plan.deploymentId);
      if (current && current.plan.documentDigest === plan.documentDigest) continue;
      await this.install(plan, current, source);
    }
  }

  /**
   * Components no plan names any more leave the disk (the artifact store and the engine's
   * compile cache), but for the few most recent: an edge device updating its apps for years
   * must not fill its disk with every version it ever ran. Called once a state is adopted (and
   * saved), so it delays nothing a deployment waits for; a failure is logged and left for the
   * next change.
   */
  async collectGarbage(plans: readonly DeploymentPlan[]): Promise<void> {
    try {
      const pruned = await this.store.prune(new Set(plans.map((p) => p.component.ref.digest)), this.retainUnused);
      const compiled = this.runtime.pruneCompiled(pruned.components);
      if (pruned.removed > 0 || compiled > 0) this.logger.info({ artifacts: pruned.removed, bytesFreed: pruned.bytesFreed, compiled }, 'removed components no deployment uses');
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'could not remove unused components; will try after the next change');
    }
    await this.pruneAppData(plans);
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
      for (const a of r.marked) this.logger.info({ vendor: a.vendor, app: a.app, keptForDays: days }, 'no deployment names this app any more; its data is kept for the grace period');
      for (const a of r.replanned) this.logger.info({ vendor: a.vendor, app: a.app }, 'app deployed again within the grace period; its data is kept');
      for (const a of r.removed) this.logger.info({ vendor: a.vendor, app: a.app, bytesFreed: a.bytes, unplannedSince: a.unplannedSince }, 'removed the data of an app no deployment names');
      for (const e of r.leftAlone) this.logger.warn({ entry: e.entry, reason: e.reason }, 'left alone an entry among the apps\' data folders that the runtime did not make');
      for (const f of r.failed) this.logger.warn({ entry: f.entry, err: f.error }, 'could not clean up an app\'s data folder; will try at the next clean-up');
      if (r.clockUnset) this.logger.warn('the clock is not set; removed apps\' data is neither marked nor deleted until it is');
      this.appDataRemovals += r.removed.length;
      if (r.removed.length > 0) this.logger.info({ removed: r.removed.length, bytesFreed: r.removed.reduce((n, a) => n + a.bytes, 0), removedSinceStart: this.appDataRemovals }, 'removed apps\' data past the grace period');
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'could not clean up removed apps\' data; will try at the next clean-up');
    }
  }

  private change(plan: DeploymentPlan, state: DeploymentState, error?: DeploymentChange['error'], usage?: AppUsage): void {
    this.emit('change', { deploymentId: plan.deploymentId, document: plan.documentDigest, app: plan.app, version: plan.version, state, ...(error ? { error } : {}), ...(usage ? { usage } : {}) });
  }

  private async install(plan: DeploymentPlan, previous: RunningDeployment | undefined, source: ArtifactSource | undefined): Promise<void> {
    const log = { deploymentId: plan.deploymentId, vendor: plan.vendor, app: plan.app, version: plan.version };
    this.change(plan, 'installing');
    let supervisor: AppSupervisor;
    try {
      const component = await obtainComponent(plan, this.store, source, this.logger, this.signingRoots());
      supervisor = await this.runtime.startApp(component, { vendor: plan.vendor, app: plan.app, grants: plan.grants, tier: plan.tier, ...(plan.limits ? { limits: plan.limits } : {}) });
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
      if (this.gateway && supervisor.spec.grants['inbound-http']) unroute = serveSupervisedApp(this.gateway, supervisor);
    } catch (err) {
      await supervisor.stop();
      if (previous?.unroute && this.gateway && previous.supervisor.spec.grants['inbound-http']) previous.unroute = serveSupervisedApp(this.gateway, previous.supervisor);
      this.failed.set(plan.deploymentId, errorMessage(err));
      this.change(plan, 'failed', { code: errorCode(err, 'agent.route'), source: 'device', message: truncateText(errorMessage(err), STATUS_MESSAGE_LIMIT, '…') });
      return;
    }
    if (previous) await previous.supervisor.stop();
    this.running.set(plan.deploymentId, { plan, supervisor, unroute });
    this.failed.delete(plan.deploymentId);
    this.logger.info({ ...log, tier: plan.tier, digest: plan.component.ref.digest, updatedFrom: previous?.plan.version }, previous ? 'app updated' : 'app started');
    this.change(plan, 'installed', undefined, supervisor.usage());
  }

  private async remove(id: string, r: RunningDeployment): Promise<void> {
    this.change(r.plan, 'removing');
    r.unroute?.();
    await r.supervisor.stop();
    this.running.delete(id);
    this.logger.info({ deploymentId: id, vendor: r.plan.vendor, app: r.plan.app, version: r.plan.version, usage: r.supervisor.usage() }, 'app removed');
    this.change(r.plan, 'removed', undefined, r.supervisor.usage());
  }

  async stopAll(): Promise<void> {
    for (const r of this.running.values()) r.unroute?.();
    this.running.clear();
  }
}
