import type { MiddlewareHandler } from 'hono';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import type { AdmissionObserver } from '../catalog/artifact-admission.js';
import type { AppEnv } from '../http/env.js';
import type { Store } from '../store/store.js';
import { admissionMetrics } from './admission-metrics.js';
import { DEFAULT_FLEET_CACHE_MS, FleetReader, registerFleetMetrics } from './fleet-metrics.js';
import { httpMetrics } from './http-metrics.js';
import { registerSigningMetrics } from './signing-metrics.js';
import { instrumentStore } from './store-metrics.js';
import type { FleetSigningRoots } from '../../trust/signing/roots.js';

/**
 * One control plane's metrics (docs/metrics.md), in a registry of its own: never prom-client's
 * global one, since several control planes run in one process in tests and a library must not
 * share state through a global. Per-replica figures (requests, admissions, store use, long-polls)
 * are counted as they happen; the fleet's figures are read from the store at scrape
 * (fleet-metrics.ts), so every replica reports the same fleet.
 */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  /** Counts and times every request (installed first in the app: app.ts). */
  readonly http: MiddlewareHandler<AppEnv>;
  /** Told of every artifact admission and re-check (catalog/artifact-admission.ts). */
  readonly admission: AdmissionObserver;

  constructor() {
    this.http = httpMetrics(this.registry);
    this.admission = admissionMetrics(this.registry);
  }

  /** The store, with its queries and transactions counted; the one every part of the control plane uses. */
  instrumentStore(store: Store): Store {
    return instrumentStore(store, this.registry);
  }

  /** The fleet's figures, read from `store` at scrape, at most once per `cacheMs`. */
  readFleet(store: Store, logger: Logger, cacheMs = DEFAULT_FLEET_CACHE_MS): void {
    registerFleetMetrics(this.registry, new FleetReader(store, logger, cacheMs, this.registry));
  }

  /** Devices parked on a long-poll of their desired state on this replica, and how parked polls ended. */
  watchLongPolls(parked: { readonly waiting: number; readonly longPollsEnded: Readonly<Record<'woken' | 'timedOut' | 'cancelled', number>> }): void {
    new Gauge({
      name: 'berth_long_polls_waiting',
      help: 'Device long-polls of the desired state parked on this replica now.',
      registers: [this.registry],
      collect() {
        this.set(parked.waiting);
      },
    });
    new Counter({
      name: 'berth_long_polls_total',
      help: 'Parked long-polls of the desired state that ended on this replica, by outcome: woken (the state changed), timed_out (nothing changed within ?wait=), cancelled (the device went away, or the state had already changed).',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        const ended = parked.longPollsEnded;
        this.reset();
        this.inc({ outcome: 'woken' }, ended.woken);
        this.inc({ outcome: 'timed_out' }, ended.timedOut);
        this.inc({ outcome: 'cancelled' }, ended.cancelled);
      },
    });
  }

  /** When the fleet signing CA and TSA in use expire; `roots` follows rotations. */
  watchSigning(roots: () => FleetSigningRoots | undefined): void {
    registerSigningMetrics(this.registry, roots);
  }

  /** The text exposition of every metric, for a scrape. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
