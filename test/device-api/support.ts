import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { Placement, PlacementSource } from '../../orchestrator/desired-state/placement.js';
import type { Queryable } from '../../orchestrator/store/store.js';
import { effectiveGrants } from '../../wire/grants.js';
import { enroll } from '../../runtime/agent/enroll.js';
import { call, type Answer, type CallOptions, type Harness } from '../orchestrator/harness.js';

/** The scheduler's side of the seam, in memory: tests set a device's placements directly. */
export function memoryPlacements(): PlacementSource & { set(deviceId: string, placements: Placement[]): void } {
  const byDevice = new Map<string, Placement[]>();
  return {
    set: (deviceId, placements) => void byDevice.set(deviceId, placements),
    placementsForDevice: async (_db: Queryable, deviceId: string) => byDevice.get(deviceId) ?? [],
  };
}

export function placement(deviceId: string, deploymentId: string, over: Partial<Placement> = {}): Placement {
  return {
    deploymentId,
    deviceId,
    vendor: 'acme',
    app: 'meter',
    version: '1.2.0',
    component: { repository: 'oci://registry.test/acme/meter', digest: `sha256:${'a'.repeat(64)}`, sizeBytes: 4096 },
    grants: effectiveGrants({ log: {} }),
    tier: 'worker',
    trustPolicy: { publicKeys: [] },
    ...over,
  };
}

export interface TestDevice {
  id: string;
  keyPem: string;
  certificatePem: string;
  /** `x5t#S256` of its certificate. */
  thumbprint: string;
  get(h: Harness, path: string, headers?: Record<string, string>): Promise<Answer>;
  raw(h: Harness, path: string, headers?: Record<string, string>): Promise<{ status: number; headers: Answer['headers']; bytes: Buffer }>;
  send(h: Harness, method: string, path: string, o?: Pick<CallOptions, 'json' | 'raw' | 'headers'>): Promise<Answer>;
}

export async function onboard(h: Harness, id: string, dir: string): Promise<TestDevice> {
  const token = await h.enrollmentToken({ deviceId: id });
  const identity = await enroll({ url: h.cp.url, ca: h.ca, dir: join(dir, id), credential: { kind: 'token', token } });
  const der = new X509Certificate(identity.certificatePem).raw;
  const tls = { key: identity.keyPem, cert: identity.certificatePem };
  return {
    id,
    keyPem: identity.keyPem,
    certificatePem: identity.certificatePem,
    thumbprint: createHash('sha256').update(der).digest('base64url'),
    get: (hh, path, headers = {}) => call(hh.cp.url + path, { ca: hh.ca, ...tls, headers }),
    raw: (hh, path, headers = {}) => rawGet(hh.cp.url + path, hh.ca, tls, headers),
    send: (hh, method, path, o = {}) => call(hh.cp.url + path, { method, ca: hh.ca, ...tls, ...o }),
  };
}

/** A GET that keeps the exact bytes (digests are over them). */
async function rawGet(url: string, ca: string[], tls: { key: string; cert: string }, headers: Record<string, string>) {
  const { request } = await import('node:https');
  return new Promise<{ status: number; headers: Answer['headers']; bytes: Buffer }>((resolve, reject) => {
    const req = request(url, { ca, ...tls, headers, agent: false, minVersion: 'TLSv1.3' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
