import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../common/digest.js';
import { parseGrants } from '../../host-apis/grants.js';
import { vendorBody } from '../../orchestrator/catalog/schema.js';
import { effectiveGrantsOf } from '../../orchestrator/deployments/placement-source.js';
import { deploymentBody, type DeploymentBody } from '../../orchestrator/deployments/schema.js';
import type { Placement } from '../../orchestrator/desired-state/placement.js';
import { renderBundle, renderDeployment, renderManifest } from '../../orchestrator/desired-state/render.js';
import { NAME } from '../../runtime/app-spec.js';
import { describeDevice } from '../../runtime/agent/capabilities.js';
import { parseAgentConfig } from '../../runtime/agent/config.js';
import { planFromDocument } from '../../runtime/agent/deployment-plan.js';
import type { DeploymentChange } from '../../runtime/agent/reconciler.js';
import { statusReportOf } from '../../runtime/agent/status-report.js';
import { workloadSpiffeId } from '../../trust/workload/spiffe-id.js';
import { deploymentIdSchema, deviceIdSchema, appIdSchema, versionSchema } from '../../wire/ids.js';
import { deviceCapabilitiesSchema } from '../../wire/margo/capabilities.js';
import { stateManifestSchema } from '../../wire/margo/manifest.js';
import { deploymentStates, deploymentStatusSchema } from '../../wire/margo/status.js';
import {
  appIdCandidate,
  deploymentIdCandidate,
  deviceIdCandidate,
  Gen,
  grantsCandidate,
  limitsCandidate,
  parametersCandidate,
  selectorCandidate,
  vendorNameCandidate,
  versionCandidate,
} from '../support/gen.js';
import { suiteTempDir } from '../support/tmp.js';

/**
 * The contract between the two sides, by generated inputs (issue #12, "wire/ as the single
 * contract"): whatever the control plane's admission schemas accept renders into a document the
 * device's own parser accepts, with the same effective grants; whatever the agent can report, the
 * control plane's device API schemas accept. Bounded runs, fixed seed (CONTRACT_SEED to vary it);
 * a failure names the seed and the run.
 */
const SEED = Number(process.env.CONTRACT_SEED ?? 20_261_207);
const RUNS = 600;

/**
 * `RUNS` generated cases; `body` answers whether the case got past the producing side's own
 * checks (a refused input proves nothing). Enough must, or the generator has drifted.
 */
function forRuns(label: string, body: (g: Gen, run: number) => boolean | Promise<boolean>): () => Promise<void> {
  return async () => {
    const g = new Gen(SEED);
    let checked = 0;
    for (let run = 0; run < RUNS; run++) {
      try {
        if (await body(g, run)) checked++;
      } catch (err) {
        throw new Error(`${label}: run ${run} with CONTRACT_SEED=${SEED} failed: ${(err as Error).message}`, { cause: err });
      }
    }
    expect(checked, `${label}: cases accepted by the producing side`).toBeGreaterThanOrEqual(RUNS / 10);
  };
}

/** A deployment create body as an operator might send it: valid parts mixed with boundary cases. */
function bodyCandidate(g: Gen): Record<string, unknown> {
  // Some runs near-valid (so many get admitted), some full of boundary cases (so edges are met).
  g.boundaryRate = g.pick([0.02, 0.1, 0.35]);
  const body: Record<string, unknown> = { app: appIdCandidate(g), version: versionCandidate(g), grants: grantsCandidate(g) };
  if (g.bool(0.8)) body.id = deploymentIdCandidate(g);
  if (g.bool(0.7))
    body.tier = g.mostly(
      () => g.pick(['instance', 'worker', 'process']),
      () => g.pick(['thread', '', 'Worker']),
    );
  const limits = limitsCandidate(g);
  if (limits !== undefined) body.limits = limits;
  const parameters = parametersCandidate(g);
  if (parameters !== undefined) body.parameters = parameters;
  body.deviceConstraints = selectorCandidate(g);
  body.deviceIds = Array.from({ length: g.int(0, 2) }, () => deviceIdCandidate(g));
  return body;
}

/** What admission and the store make of an accepted body: the placement the renderer reads. */
function placementOf(body: DeploymentBody, deviceId: string, vendor: string): Placement {
  const stored = JSON.parse(JSON.stringify(body)) as DeploymentBody; // jsonb columns
  const p: Placement = {
    deploymentId: body.id ?? randomUUID(),
    deviceId,
    vendor,
    app: body.app,
    version: body.version,
    // The repository was admitted with the version (its own reference parser, shared with the device).
    component: { repository: 'oci://registry.test/acme/meter', digest: sha256Digest(Buffer.from(body.app)), sizeBytes: 1024 },
    grants: effectiveGrantsOf(stored.grants as Record<string, unknown>),
    tier: body.tier,
    trustPolicy: { publicKeys: [] },
  };
  if (stored.limits) p.limits = stored.limits;
  if (stored.parameters) p.parameters = stored.parameters;
  return p;
}

describe('contract: control plane → device', () => {
  it(
    'every deployment the control plane admits renders into a document and manifest the device accepts, with the same effective grants',
    forRuns('admitted → device', async (g) => {
      const raw = bodyCandidate(g);
      const admitted = deploymentBody.safeParse(raw);
      const vendor = vendorBody.safeParse({ name: vendorNameCandidate(g), trustPolicy: {} });
      if (!admitted.success || !vendor.success) return false;
      const body = admitted.data;
      const deviceId = body.deviceIds?.[0] ?? 'line-1/press-2';
      const placement = placementOf(body, deviceId, vendor.data.name);
      const doc = renderDeployment(placement);

      // The device's own path: the manifest, then the document it names, parsed as the agent does.
      const manifest = stateManifestSchema.parse(JSON.parse(renderManifest(1, [doc], await renderBundle([doc])).bytes.toString('utf8')));
      expect(manifest.deployments[0]!.deploymentId).toBe(placement.deploymentId);
      const plan = planFromDocument({ deploymentId: doc.deploymentId, digest: doc.digest, bytes: doc.bytes }, deviceId);

      expect(plan.grants).toEqual(body.grants);
      // The device adds nothing: its runtime's parse of the signed grants is the identity.
      expect(parseGrants(plan.grants)).toEqual(plan.grants);
      expect(plan.tier).toBe(body.tier);
      expect(plan.limits).toEqual(body.limits);
      expect([plan.vendor, plan.app, plan.version]).toEqual([vendor.data.name, body.app, body.version]);
      // And the names fit where the device puts them: its folders and the workload's SPIFFE ID.
      expect(NAME.test(plan.vendor) && NAME.test(plan.app)).toBe(true);
      expect(() => workloadSpiffeId({ trustDomain: 'factory.example', deviceId, vendor: plan.vendor, app: plan.app })).not.toThrow();
      return true;
    }),
    120_000,
  );

  it(
    'a deployment stored before grants were stored effective renders with the same effective grants as a new one',
    forRuns('stored as written → effective', (g) => {
      const raw = bodyCandidate(g);
      const admitted = deploymentBody.safeParse(raw);
      if (!admitted.success) return false;
      // What the store held before this change: the grants exactly as the operator wrote them.
      expect(effectiveGrantsOf(raw.grants as Record<string, unknown>)).toEqual(admitted.data.grants);
      return true;
    }),
  );

  it('the device refuses grants that lack a value the control plane must have filled in, naming the field', () => {
    const placement: Placement = {
      deploymentId: 'meter',
      deviceId: 'dev-1',
      vendor: 'acme',
      app: 'meter',
      version: '1.0.0',
      component: { repository: 'oci://registry.test/acme/meter', digest: sha256Digest(Buffer.from('m')), sizeBytes: 1 },
      grants: { keyvalue: {} } as Placement['grants'],
      tier: 'worker',
      trustPolicy: {},
    };
    const doc = renderDeployment(placement);
    expect(() => planFromDocument({ deploymentId: 'meter', digest: doc.digest, bytes: doc.bytes }, 'dev-1')).toThrow(/grants\.keyvalue\.quotaBytes/);
  });
});

describe('contract: device → control plane', () => {
  it(
    'every status report the agent can produce is accepted by the device API schema',
    forRuns('agent status → control plane', (g) => {
      const deploymentId = deploymentIdCandidate(g);
      const app = appIdCandidate(g);
      const version = versionCandidate(g);
      const deviceId = deviceIdCandidate(g);
      // The agent only reports on deployments it parsed from a signed document: the same schemas.
      if (
        ![deploymentIdSchema.safeParse(deploymentId), appIdSchema.safeParse(app), versionSchema.safeParse(version), deviceIdSchema.safeParse(deviceId)].every(
          (r) => r.success,
        )
      )
        return false;
      const change: DeploymentChange = { deploymentId, document: sha256Digest(Buffer.from(deploymentId)), app, version, state: g.pick(deploymentStates) };
      if (g.bool(0.5))
        change.error = {
          code: g.mostly(
            () => 'agent.start',
            () => g.anyText(600),
          ),
          source: 'device',
          message: g.mostly(
            () => g.anyText(200),
            () => `${'x'.repeat(g.int(3990, 4100))}😀${g.anyText(8000)}`,
          ),
        };
      if (g.bool(0.5)) {
        change.usage = {
          memory: { pages: g.int(0, 65536), bytes: g.int(0, 2 ** 32), peakPages: g.int(0, 65536), jsHeapBytes: g.bool() ? g.int(0, 2 ** 30) : undefined },
          cpu: { busyMs: g.next() * 1e6, deadlineMs: g.int(0, 1e6), blockedMs: g.next() * 1e3 },
          hostCalls: Object.fromEntries(
            ['berth:host/log@0.1.0', 'wasi:clocks/monotonic-clock@0.2.12', 'berth:host/keyvalue@0.1.0'].filter(() => g.bool()).map((k) => [k, g.int(0, 1e9)]),
          ),
          bytes: { in: g.int(0, 2 ** 40), out: g.int(0, 2 ** 40) },
          messaging: { published: g.int(0, 1e6), received: g.int(0, 1e6), dropped: g.int(0, 1e6) },
          instances: g.int(0, 1e4),
          stops: Object.fromEntries(['trap', 'deadline', 'memory', 'stopped'].filter(() => g.bool()).map((k) => [k, g.int(0, 1e4)])),
          restarts: g.int(0, 1e4),
        };
      }
      const report = statusReportOf(change, deviceId, g.int(1, Number.MAX_SAFE_INTEGER));
      const sent = JSON.parse(JSON.stringify(report)) as unknown; // as it travels
      const parsed = deploymentStatusSchema.safeParse(sent);
      expect(parsed.success ? 'accepted' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')).toBe('accepted');
      // Cutting a long message never leaves half a surrogate pair (PostgreSQL refuses one).
      const message = report.status.error?.message ?? '';
      expect(/[\uD800-\uDBFF]$/.test(message)).toBe(false);
      return true;
    }),
    120_000,
  );

  let dataDir: string | undefined;
  it(
    'every capabilities manifest the agent can describe from a configuration it accepts is accepted by the device API schema',
    forRuns('agent capabilities → control plane', async (g) => {
      const labels = Object.fromEntries(
        Array.from({ length: g.int(0, 6) }, () => [
          g.mostly(
            () => g.chars('abcdefghijklmnop-./', g.int(1, 30)),
            () => g.pick(['', 'x'.repeat(317), 'x'.repeat(318), g.anyText(40)]),
          ),
          g.pick<unknown>([
            g.anyText(g.pick([10, 1024, 1025])),
            g.int(-1e6, 1e6),
            g.bool(),
            [g.anyText(10)],
            Array.from({ length: g.pick([1, 256, 257]) }, () => 'v'),
            [1, 2],
          ]),
        ]),
      );
      const device = g.bool(0.5)
        ? {}
        : {
            vendor: g.mostly(
              () => g.anyText(30) || 'v',
              () => g.anyText(300),
            ),
            modelNumber: g.mostly(
              () => 'm-1',
              () => '',
            ),
            ...(g.bool() ? { serialNumber: g.anyText(g.pick([1, 256, 257])) } : {}),
          };
      let config;
      try {
        config = parseAgentConfig(
          {
            controlPlane: { url: 'https://cp.test:8443', ca: '/etc/berth/ca.pem' },
            dataDir: (dataDir ??= suiteTempDir('contract-capabilities')),
            labels,
            device,
          },
          '/',
        );
      } catch {
        return false; // the agent refuses to start with this configuration
      }
      const deviceId = deviceIdCandidate(g);
      if (!deviceIdSchema.safeParse(deviceId).success) return false; // the agent only has an id the control plane issued
      const engine = g.bool() ? { kind: 'wasmtime' as const, name: 'wasmtime@49.0.0+winch' } : { kind: 'jco' as const, name: 'v8+jco@1.35.0' };
      const manifest = await describeDevice(deviceId, config, engine);
      const parsed = deviceCapabilitiesSchema.safeParse(JSON.parse(JSON.stringify(manifest)));
      expect(parsed.success ? 'accepted' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')).toBe('accepted');
      return true;
    }),
    120_000,
  );
});
