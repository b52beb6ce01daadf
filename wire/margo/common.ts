import { z } from 'zod';

/** Margo's device id: hierarchical (`gateway/child`), unreserved URL characters only. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;
export const deviceIdSchema = z.string().min(1).max(253).regex(DEVICE_ID_PATTERN, 'not a Margo device id');

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
export const digestSchema = z.string().regex(DIGEST_PATTERN, 'not a digest (sha256:<64 lowercase hex>)');

/** Berth's deployment ids: lowercase, DNS-label-like, so they fit paths, YAML names and labels. */
export const DEPLOYMENT_ID_PATTERN = /^[a-z0-9]([-a-z0-9._]{0,126}[a-z0-9])?$/;
export const deploymentIdSchema = z.string().regex(DEPLOYMENT_ID_PATTERN, 'not a deployment id');

/** Vendor extension members: `x-<name>-extensions`, each an object. */
export const EXTENSION_KEY_PATTERN = /^x-[a-z][a-z0-9-]*-extensions$/;

export const MANIFEST_MEDIA_TYPE = 'application/vnd.margo.manifest.v1+json';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.margo.bundle.v1+tar+gzip';
export const DEPLOYMENT_MEDIA_TYPE = 'application/yaml';
