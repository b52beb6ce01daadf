import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppUsage } from '../accounting/app-account.js';
import type { AppState } from '../supervisor.js';
import type { ArtifactOutcome } from './artifact-fetcher.js';
import type { DeploymentPlan } from './deployment-plan.js';
import type { SyncRoundResult } from './sync-loop.js';

/** What the agent's metrics read at each scrape: the apps the reconciler runs now and what it failed. */
export interface AgentMetricsSources {
  apps(): { deploymentId: string; plan: DeploymentPlan; supervisor: { usage(): AppUsage | undefined; status(): { state: AppState } } }[];
  failures(): ReadonlyMap<string, string>;
  adoptedVersion(): number;
}

/** The device's engine, as capabilities describe it, and why `auto` fell back to jco if it did. */
export interface AgentEngineInfo {
  kind: string;
  name: string;
  fallback: string | undefined;
}

const APP_LABELS = ['vendor', 'app', 'deployment'] as const;
type AppLabel = (typeof APP_LABELS)[number];
const STATES: readonly AppState[] = ['starting', 'running', 'backoff', 'stopped'];
const VERIFY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The labels every per-app series carries: few per device, so a label per app is fine here (not on the control plane). */
function appLabels(a: { deploymentId: string; plan: DeploymentPlan }): Record<AppLabel, string> {
  return { vendor: a.plan.vendor, app: a.plan.app, deployment: a.deploymentId };
}

/**
 * One agent's metrics (docs/metrics.md, "Agent"), in a registry of its own (several agents run in
 * one test process). Per-app figures are read from the apps' accounts at scrape
 * (docs/accounting.md): they are cumulative since the app's current supervisor started, so an
 * update or a restart of the agent resets them, which Prometheus' rate() treats as a counter reset.
 * Sync and verification figures are counted as they happen.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly rounds: Counter<'result'>;
  private readonly refusals: Counter<'code'>;
  private readonly adoptions: Gauge;
  private readonly artifacts: Counter<'result' | 'code'>;
  private readonly artifactSeconds: Histogram<'result'>;

  constructor(sources: AgentMetricsSources, engine: AgentEngineInfo) {
    const registers = [this.registry];
    this.rounds = new Counter({
      name: 'berth_agent_sync_rounds_total',
      help: 'Rounds of following the desired state, by result: unchanged (304), adopted (verified and applied), refused (failed verification), error (network, control plane).',
      labelNames: ['result'],
      registers,
    });
    // Every result is there from the start, at 0: rate() and alerts need the series before the first refusal.
    for (const result of ['unchanged', 'adopted', 'refused', 'error'] satisfies SyncRoundResult[]) this.rounds.inc({ result }, 0);
    this.refusals = new Counter({
      name: 'berth_agent_desired_state_refusals_total',
      help: 'Desired states refused by the device, by code (signature, binding, version, digest: docs/desired-state.md).',
      labelNames: ['code'],
      registers,
    });
    this.adoptions = new Gauge({
      name: 'berth_agent_last_adoption_timestamp_seconds',
      help: 'When the device last adopted a new desired state (Unix time; 0 until it has since the agent started).',
      registers,
    });
    new Gauge({
      name: 'berth_agent_adopted_manifest_version',
      help: 'The manifestVersion of the desired state the device runs (0 before the first).',
      registers,
      collect() {
        this.set(sources.adoptedVersion());
      },
    });
    this.artifacts = new Counter({
      name: 'berth_agent_artifact_verifications_total',
      help: 'Components obtained to start an app, by result: cached (verified before, bytes re-checked from the local store), verified (pulled and verified now), failed (refused or unreachable; code says which).',
      labelNames: ['result', 'code'],
      registers,
    });
    this.artifactSeconds = new Histogram({
      name: 'berth_agent_artifact_verification_duration_seconds',
      help: 'Time to obtain a verified component (the pull included), by result.',
      labelNames: ['result'],
      buckets: VERIFY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'berth_agent_engine_info',
      help: 'The WebAssembly engine apps run on (docs/engine.md); fallback="true" when auto fell back to jco. Always 1.',
      labelNames: ['kind', 'name', 'fallback'],
      registers,
    }).set({ kind: engine.kind, name: engine.name, fallback: String(engine.fallback !== undefined) }, 1);
    new Gauge({
      name: 'berth_agent_deployments_failed',
      help: 'Deployments of the adopted state that could not be brought to their plan (retried with back-off).',
      registers,
      collect() {
        this.set(sources.failures().size);
      },
    });
    registerAppMetrics(this.registry, sources);
  }

  /** How a round of following the desired state ended (sync-loop.ts). */
  round(result: SyncRoundResult): void {
    this.rounds.inc({ result });
    if (result === 'adopted') this.adoptions.set(Date.now() / 1000);
  }

  refused(code: string): void {
    this.refusals.inc({ code });
  }

  artifact(outcome: ArtifactOutcome): void {
    this.artifacts.inc({ result: outcome.result, code: outcome.code ?? '' });
    this.artifactSeconds.observe({ result: outcome.result }, outcome.seconds);
  }
}

/** A gauge or counter set at each scrape from every running app's usage; apps gone since disappear. */
function perApp(
  registry: Registry,
  sources: AgentMetricsSources,
  kind: 'gauge' | 'counter',
  name: string,
  help: string,
  values: (usage: AppUsage, a: ReturnType<AgentMetricsSources['apps']>[number]) => [Record<string, string>, number][],
  extraLabels: readonly string[] = [],
): void {
  const labelNames = [...APP_LABELS, ...extraLabels];
  const fill = (set: (labels: Record<string, string>, value: number) => void): void => {
    for (const a of sources.apps()) {
      const usage = a.supervisor.usage();
      if (!usage) continue;
      for (const [extra, value] of values(usage, a)) set({ ...appLabels(a), ...extra }, value);
    }
  };
  if (kind === 'gauge')
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value));
      },
    });
  else
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        // A counter read from the app's own cumulative totals: reset, then set to them.
        this.reset();
        fill((labels, value) => this.inc(labels, Math.max(0, value)));
      },
    });
}

function registerAppMetrics(registry: Registry, sources: AgentMetricsSources): void {
  const one = (value: number): [Record<string, string>, number][] => [[{}, value]];
  new Gauge({
    name: 'berth_agent_app_info',
    help: 'Each app the agent runs, with its version, tier and the engine it last started on. Always 1.',
    labelNames: [...APP_LABELS, 'version', 'tier', 'engine'],
    registers: [registry],
    collect() {
      this.reset();
      for (const a of sources.apps()) this.set({ ...appLabels(a), version: a.plan.version, tier: a.plan.tier, engine: a.supervisor.usage()?.engine ?? '' }, 1);
    },
  });
  new Gauge({
    name: 'berth_agent_app_state',
    help: "Each app's supervisor state: 1 for the state it is in (starting, running, backoff, stopped), 0 for the others.",
    labelNames: [...APP_LABELS, 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const a of sources.apps()) {
        const now = a.supervisor.status().state;
        for (const state of STATES) this.set({ ...appLabels(a), state }, state === now ? 1 : 0);
      }
    },
  });
  perApp(registry, sources, 'gauge', 'berth_agent_app_memory_bytes', "The running instance's guest linear memory (0 when none runs).", (u) =>
    one(u.memory.bytes),
  );
  perApp(registry, sources, 'gauge', 'berth_agent_app_memory_peak_bytes', 'The most guest linear memory any instance of the app reached.', (u) =>
    one(u.memory.peakPages * 65536),
  );
  perApp(
    registry,
    sources,
    'gauge',
    'berth_agent_app_js_heap_bytes',
    "Used JS heap of the running instance's thread (jco engine; absent when unknown or shared).",
    (u) => (u.memory.jsHeapBytes === undefined ? [] : one(u.memory.jsHeapBytes)),
  );
  perApp(
    registry,
    sources,
    'counter',
    'berth_agent_app_cpu_seconds_total',
    'CPU time the app used: measured in its sandbox thread, less time blocked in host calls, plus the full deadline of each invocation ended at it.',
    (u) => one((u.cpu.busyMs + u.cpu.deadlineMs) / 1000),
  );
  perApp(
    registry,
    sources,
    'counter',
    'berth_agent_app_host_wait_seconds_total',
    "Time the app's thread sat blocked waiting for host calls answered by the agent.",
    (u) => one(u.cpu.blockedMs / 1000),
  );
  perApp(
    registry,
    sources,
    'counter',
    'berth_agent_app_host_calls_total',
    'Calls the app made into each imported host interface.',
    (u) => Object.entries(u.hostCalls).map(([iface, n]) => [{ interface: iface }, n]),
    ['interface'],
  );
  perApp(
    registry,
    sources,
    'counter',
    'berth_agent_app_payload_bytes_total',
    "Payload bytes the app received (in) and sent (out): messages, and the bodies of its own outbound HTTP calls (the gateway's inbound requests are not counted here).",
    (u) => [
      [{ direction: 'in' }, u.bytes.in],
      [{ direction: 'out' }, u.bytes.out],
    ],
    ['direction'],
  );
  perApp(
    registry,
    sources,
    'counter',
    'berth_agent_app_messages_total',
    'Messages the app published, received, and that were dropped on their way to it.',
    (u) => [
      [{ kind: 'published' }, u.messaging.published],
      [{ kind: 'received' }, u.messaging.received],
      [{ kind: 'dropped' }, u.messaging.dropped],
    ],
    ['kind'],
  );
  perApp(registry, sources, 'counter', 'berth_agent_app_instances_started_total', 'Instances of the app started (the first start and every restart).', (u) =>
    one(u.instances),
  );
  perApp(registry, sources, 'counter', 'berth_agent_app_restarts_total', 'Restarts of the app by its supervisor after an instance ended.', (u) =>
    one(u.restarts),
  );
  perApp(
    registry,
    sources,
    'counter',
    'berth_agent_app_stops_total',
    'Ends of instances of the app, by reason: trap, deadline, crash, failed, out-of-memory, load-failed, stopped.',
    (u) => Object.entries(u.stops).map(([reason, n]) => [{ reason }, n]),
    ['reason'],
  );
}
