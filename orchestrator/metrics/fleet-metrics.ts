import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import type { Queryable } from '../store/store.js';
import { ADOPTION_LAG_BOUNDS, CERTIFICATE_EXPIRY_BOUNDS, LAST_SEEN_BOUNDS, readFleetFigures, type Counts, type FleetFigures } from './fleet-figures.js';
import { StoreHistogram } from './store-histogram.js';

/** How long one read of the fleet serves scrapes: several Prometheus servers scraping every few seconds cost one read. */
export const DEFAULT_FLEET_CACHE_MS = 5_000;

/**
 * The fleet's figures, read from the store when scraped, at most once per `cacheMs` (concurrent
 * scrapes share the read in flight). Read at scrape rather than kept in memory, so every replica
 * reports the same fleet; a failed read yields no fleet series (and `berth_fleet_read_up 0`)
 * instead of a failed scrape, so the request and process figures still arrive.
 */
export class FleetReader {
  private cached: { at: number; figures: FleetFigures | undefined } | undefined;
  private inFlight: Promise<FleetFigures | undefined> | undefined;
  readonly failures: Counter;

  constructor(
    private readonly store: Queryable,
    private readonly logger: Logger,
    private readonly cacheMs: number,
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new Counter({
      name: 'berth_fleet_read_failures_total',
      help: 'Reads of the fleet figures from the store that failed (the scrape then carries no fleet series).',
      registers: [registry],
    });
  }

  read(): Promise<FleetFigures | undefined> {
    if (this.cached && this.now() - this.cached.at < this.cacheMs) return Promise.resolve(this.cached.figures);
    this.inFlight ??= readFleetFigures(this.store)
      .catch((err: unknown) => {
        this.failures.inc();
        this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read the fleet figures for /metrics');
        return undefined;
      })
      .then((figures) => {
        this.cached = { at: this.now(), figures };
        this.inFlight = undefined;
        return figures;
      });
    return this.inFlight;
  }
}

/** A gauge set at each scrape from one `Counts` of the fleet figures; label values the store no longer has disappear. */
function countsGauge(
  registry: Registry,
  reader: FleetReader,
  name: string,
  help: string,
  label: string,
  pick: (f: FleetFigures) => Counts,
  always: readonly string[] = [],
): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    async collect() {
      this.reset();
      const figures = await reader.read();
      if (!figures) return;
      const counts = pick(figures);
      // The states that exist are always there, at 0 when no row has them: an alert on `> 0` needs the series.
      for (const value of always) this.set({ [label]: value }, 0);
      for (const [value, n] of Object.entries(counts)) this.set({ [label]: value }, n);
    },
  });
}

/** The store's view of the fleet (docs/metrics.md, "Fleet"). */
export function registerFleetMetrics(registry: Registry, reader: FleetReader): void {
  new Gauge({
    name: 'berth_fleet_read_up',
    help: 'Whether the last read of the fleet figures from the store succeeded (1) or not (0).',
    registers: [registry],
    async collect() {
      this.set((await reader.read()) ? 1 : 0);
    },
  });
  countsGauge(registry, reader, 'berth_devices', 'Devices by status.', 'status', (f) => f.devices, ['pending', 'active', 'denied', 'revoked']);
  countsGauge(
    registry,
    reader,
    'berth_active_devices',
    'Active devices by health: healthy (polling), unknown (silent past the stale limit), untracked (never polled).',
    'health',
    (f) => f.activeHealth,
    ['healthy', 'unknown', 'untracked'],
  );
  new StoreHistogram(
    'berth_device_last_seen_age_seconds',
    "Seconds since each active device's last desired-state poll (devices that never polled are not counted).",
    LAST_SEEN_BOUNDS,
    async () => (await reader.read())?.lastSeen,
  ).registerIn(registry);
  countsGauge(registry, reader, 'berth_deployments', 'Deployments by rollout state.', 'rollout_state', (f) => f.deployments, [
    'none',
    'rolling',
    'paused',
    'done',
    'rolled-back',
  ]);
  countsGauge(registry, reader, 'berth_paused_rollouts', 'Paused rollouts by the reason they paused.', 'reason', (f) => f.pausedRollouts);
  countsGauge(
    registry,
    reader,
    'berth_placements',
    "Placements (a deployment on a device) by the device's state on the placed version; pending until it reports on it.",
    'state',
    (f) => f.placements,
    ['pending', 'installing', 'installed', 'failed', 'removing', 'removed'],
  );
  new StoreHistogram(
    'berth_adoption_lag_seconds',
    'For each placement whose device has not yet reported on the placed version: seconds since that version was placed.',
    ADOPTION_LAG_BOUNDS,
    async () => (await reader.read())?.adoptionLag,
  ).registerIn(registry);
  new StoreHistogram(
    'berth_device_certificate_expiry_seconds',
    'Seconds until each active device\'s newest certificate expires (le="0": expired).',
    CERTIFICATE_EXPIRY_BOUNDS,
    async () => (await reader.read())?.certificateExpiry,
  ).registerIn(registry);
  countsGauge(registry, reader, 'berth_onboarding_requests', 'Onboarding requests by status.', 'status', (f) => f.onboardingRequests, [
    'pending',
    'approved',
    'denied',
  ]);
  new Gauge({
    name: 'berth_ca_certificate_expiry_timestamp_seconds',
    help: "The earliest expiry (Unix time) of the fleet CA's certificates of each kind and state.",
    labelNames: ['kind', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const a of (await reader.read())?.authorities ?? []) this.set({ kind: a.kind, state: a.state }, a.notAfter);
    },
  });
  new Gauge({
    name: 'berth_catalog_app_versions',
    help: 'App versions in the catalog (each admitted once).',
    registers: [registry],
    async collect() {
      this.reset();
      const figures = await reader.read();
      if (figures) this.set(figures.appVersions);
    },
  });
}
