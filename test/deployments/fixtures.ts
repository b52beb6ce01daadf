import type { DesiredStateChanged } from '../../orchestrator/desired-state/placement.js';
import * as catalog from '../../orchestrator/store/catalog.js';
import * as devices from '../../orchestrator/store/devices.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { openStore, type Queryable, type Store, type StoreLocation } from '../../orchestrator/store/store.js';
import { insertTestVendor, insertVerifiedVersion } from '../support/verified-catalog.js';

export const DIGEST_1 = `sha256:${'1'.repeat(64)}` as const;
export const DIGEST_2 = `sha256:${'2'.repeat(64)}` as const;

/** A DeviceCapabilitiesManifest as a device reports it. */
export function capabilities(o: { cores?: number; memory?: string; arch?: string; labels?: Record<string, unknown> } = {}) {
  return {
    properties: {
      id: 'x',
      vendor: 'acme',
      modelNumber: 'm',
      serialNumber: 's',
      cpus: [{ cores: o.cores ?? 4, architecture: o.arch ?? 'arm64' }],
      memory: o.memory ?? '4Gi',
    },
    labels: o.labels ?? {},
  };
}

export async function addDevice(
  q: Queryable,
  id: string,
  o: { status?: devices.DeviceStatus; labels?: Record<string, string>; caps?: unknown | null } = {},
): Promise<void> {
  await devices.insertDevice(q, { id, status: o.status ?? 'active', labels: o.labels ?? {}, method: 'token' });
  if (o.caps !== null) await setCapabilities(q, id, o.caps ?? capabilities());
}

/** Writes a capabilities report as the device channel does (its store module is the other side's). */
export async function setCapabilities(q: Queryable, deviceId: string, manifest: unknown): Promise<void> {
  await q.query(
    `INSERT INTO device_capabilities (device_id, manifest) VALUES ($1, $2::jsonb)
     ON CONFLICT (device_id) DO UPDATE SET manifest = EXCLUDED.manifest, updated_at = now()`,
    [deviceId, JSON.stringify(manifest)],
  );
}

/** Vendor `acme`, app `sensor` with versions 1.0.0 and 1.1.0, importing only the baseline and logging. */
export async function addCatalog(q: Queryable, app = 'sensor'): Promise<void> {
  await insertTestVendor(q, 'acme');
  await catalog.insertApp(q, { id: app, vendor: 'acme', description: '' });
  for (const [version, digest] of [
    ['1.0.0', DIGEST_1],
    ['1.1.0', DIGEST_2],
  ] as const) {
    await insertVerifiedVersion(q, { appId: app, version, digest, repository: 'oci://registry.test/acme/sensor' });
  }
}

/** A DesiredStateChanged that records what it heard (the desired-state side's stand-in). */
export function recorder(): DesiredStateChanged & { calls: string[][]; all(): string[] } {
  const calls: string[][] = [];
  const fn = (async (_tx: Queryable, ids: readonly string[]) => {
    calls.push([...ids]);
  }) as DesiredStateChanged & { calls: string[][]; all(): string[] };
  fn.calls = calls;
  fn.all = () => [...new Set(calls.flat())].sort();
  return fn;
}

/**
 * Opens a store for a describe block (closed after it) and, before each case, empties its fleet
 * and catalog and adds the catalog (`addCatalog`) and whatever `more` adds.
 */
export function useFleetStore(location: () => StoreLocation, use: (store: Store) => void, more: (store: Store) => Promise<void> = async () => {}): void {
  let store: Store | undefined;
  beforeAll(async () => {
    use((store = await openStore(location())));
  });
  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    await store!.query('TRUNCATE deployment_device_status, placements, deployments, app_versions, apps, vendors, device_capabilities, devices CASCADE');
    await addCatalog(store!);
    await more(store!);
  });
}
