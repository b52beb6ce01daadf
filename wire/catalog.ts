import { z } from 'zod';

/**
 * The catalog's answers (GET/POST /api/v1/catalog…, orchestrator/routes/vendor-api.ts): the
 * store's records as JSON, dates as ISO 8601. Declared here because the console reads them too
 * (console/src/types.ts takes their types only), and so does `berth catalog`.
 */

const trustPolicyOut = z.record(z.string(), z.unknown()).describe('The vendor trust policy (docs/admission.md)');
export const vendorRegistered = z.object({ name: z.string(), trustPolicy: trustPolicyOut });
export type VendorRegistered = z.output<typeof vendorRegistered>;
export const vendorShown = vendorRegistered.extend({ createdAt: z.string() });
export type VendorShown = z.output<typeof vendorShown>;
export const vendorsListed = z.object({ vendors: z.array(vendorShown) });
export type VendorsListed = z.output<typeof vendorsListed>;
export const trustPolicyReplaced = z.object({ name: z.string(), trustPolicy: trustPolicyOut, rerenderedDevices: z.number().int() });

export const appShown = z.object({ id: z.string(), vendor: z.string(), description: z.string(), createdAt: z.string() });
export type AppShown = z.output<typeof appShown>;
export const appsListed = z.object({ apps: z.array(appShown) });
export type AppsListed = z.output<typeof appsListed>;

/** An admitted version (store/catalog.ts AppVersionRecord as JSON): its artifact and what admission verified. */
export const versionShown = z.object({
  appId: z.string(),
  version: z.string(),
  component: z.object({ repository: z.string(), digest: z.string(), sizeBytes: z.number().int() }),
  imports: z.array(z.string()),
  verification: z
    .object({
      policyFingerprint: z.string(),
      rootsFingerprint: z.string(),
      componentDigest: z.string(),
      signer: z.string(),
      provenance: z.object({ builderId: z.string(), sourceRepository: z.string().optional() }).optional(),
      sbom: z.object({ components: z.number().int(), packages: z.number().int() }).optional(),
      verifiedAt: z.string(),
    })
    .nullable()
    .describe('Null only for versions admitted before verification was recorded'),
  createdAt: z.string(),
});
export type VersionShown = z.output<typeof versionShown>;
export const versionsListed = z.object({ app: z.string(), versions: z.array(versionShown) });
export type VersionsListed = z.output<typeof versionsListed>;
