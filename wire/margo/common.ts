import { z } from 'zod';

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
export const digestSchema = z.string().regex(DIGEST_PATTERN, 'not a digest (sha256:<64 lowercase hex>)');

/** Vendor extension members: `x-<name>-extensions`, each an object. */
export const EXTENSION_KEY_PATTERN = /^x-[a-z][a-z0-9-]*-extensions$/;

export const MANIFEST_MEDIA_TYPE = 'application/vnd.margo.manifest.v1+json';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.margo.bundle.v1+tar+gzip';
export const DEPLOYMENT_MEDIA_TYPE = 'application/yaml';
