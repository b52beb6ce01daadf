import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { stringify } from 'yaml';
import { sha256Digest, type Digest } from '../../common/digest.js';
import { BUNDLE_MEDIA_TYPE } from '../../wire/margo/common.js';
import type { StateManifest } from '../../wire/margo/manifest.js';
import type { Placement } from './placement.js';
import { canonicalize } from '../../common/canonical-json.js';

/** A rendered document: its exact bytes and their digest. Served byte for byte, never re-rendered. */
export interface Rendered {
  digest: Digest;
  bytes: Buffer;
}

export interface RenderedDeployment extends Rendered {
  deploymentId: string;
}

export const deploymentUrl = (deploymentId: string, digest: string): string => `/api/v1/deployments/${deploymentId}/${digest}`;
export const bundleUrl = (digest: string): string => `/api/v1/bundles/${digest}`;

/** Margo's applicationId pattern is `^[-a-z0-9]{1,200}$`; Berth's `vendor/app` folds into it. */
export function margoApplicationId(vendor: string, app: string): string {
  return `${vendor}-${app}`
    .toLowerCase()
    .replace(/[^-a-z0-9]/g, '-')
    .slice(0, 200);
}

export function rendered(bytes: Buffer): Rendered {
  return { digest: sha256Digest(bytes), bytes };
}

/**
 * One placement as a Margo ApplicationDeployment. Margo has no Wasm profile yet, so the profile
 * is `custom` and the Wasm specifics ride in `x-berth-extensions` (docs/margo.md).
 */
export function renderDeployment(p: Placement): RenderedDeployment {
  return { deploymentId: p.deploymentId, ...rendered(Buffer.from(deploymentYaml(p), 'utf8')) };
}

/** The ApplicationDeployment YAML text of one placement (renderDeployment's bytes, as a string). */
export function deploymentYaml(p: Placement): string {
  const applicationId = margoApplicationId(p.vendor, p.app);
  const profileExtension: Record<string, unknown> = { runtime: 'wasm-component', vendor: p.vendor, grants: p.grants, tier: p.tier };
  if (p.limits) profileExtension.limits = p.limits;
  profileExtension.trustPolicy = p.trustPolicy;
  if (p.refusedDigests?.length) profileExtension.refusedDigests = p.refusedDigests;
  const doc = {
    apiVersion: 'application.margo.org/v1alpha1',
    kind: 'ApplicationDeployment',
    metadata: {
      name: p.deploymentId,
      namespace: 'berth',
      deviceId: p.deviceId,
      annotations: { id: p.deploymentId, applicationId },
    },
    spec: {
      applicationId,
      deploymentProfile: {
        type: 'custom',
        components: [
          {
            name: p.app,
            properties: {
              repository: p.component.repository,
              revision: p.version,
              'x-berth-extensions': { digest: p.component.digest, sizeBytes: p.component.sizeBytes, mediaType: 'application/wasm' },
            },
          },
        ],
        'x-berth-extensions': profileExtension,
      },
      ...(p.parameters ? { parameters: p.parameters } : {}),
    },
  };
  return stringify(doc, { sortMapEntries: false, lineWidth: 0 });
}

/**
 * Every deployment of a device as one tar.gz: `<deploymentId>.yaml` entries, fixed mode and
 * mtime, so the same deployments give the same bytes on any replica.
 */
export async function renderBundle(deployments: readonly RenderedDeployment[]): Promise<Rendered> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    tar.on('end', resolve);
    tar.on('error', reject);
  });
  for (const d of deployments) {
    await new Promise<void>((resolve, reject) =>
      tar.entry(
        { name: `${d.deploymentId}.yaml`, size: d.bytes.length, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' },
        d.bytes,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  tar.finalize();
  await done;
  return rendered(gzipSync(Buffer.concat(chunks), { level: 6 }));
}

/** The state manifest as RFC 8785 canonical JSON: the same state always gives the same bytes and ETag. */
export function renderManifest(manifestVersion: number, deployments: readonly RenderedDeployment[], bundle: Rendered | null): Rendered {
  const manifest: StateManifest = {
    manifestVersion,
    bundle: bundle && { mediaType: BUNDLE_MEDIA_TYPE, digest: bundle.digest, sizeBytes: bundle.bytes.length, url: bundleUrl(bundle.digest) },
    deployments: deployments.map((d) => ({
      deploymentId: d.deploymentId,
      digest: d.digest,
      sizeBytes: d.bytes.length,
      url: deploymentUrl(d.deploymentId, d.digest),
    })),
  };
  const text = canonicalize(manifest);
  if (text === undefined) throw new Error('manifest could not be canonicalized');
  return rendered(Buffer.from(text, 'utf8'));
}
