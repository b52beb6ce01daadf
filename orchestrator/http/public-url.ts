import { BerthError } from '../../common/errors.js';

/**
 * Every URL the control plane hands out (the trust bundle's, a pending onboarding's poll URI and
 * Location, the issuer of the certificates its signing CA issues) is built from its configured
 * public URL, never from the request's Host header: a forged Host must not point a device, or a
 * cache between it and the control plane, at another server (docs/trust.md).
 */
export interface PublicUrlDeps {
  /** `https://host[:port][/prefix]`; ControlPlaneOptions.publicUrl, else the listener's own URL. */
  publicUrl?: string;
}

/** Checks a configured public URL: absolute https, no credentials, query or fragment; without a trailing `/`. */
export function checkPublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BerthError('config.bad_public_url', `the public URL '${value}' is not an absolute URL`);
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
    throw new BerthError('config.bad_public_url', `the public URL '${value}' must be https://host[:port][/path], without credentials, query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

/** `path` (absolute, starting with `/`) under the public URL. */
export function publicLink(deps: PublicUrlDeps, path: string): string {
  // Set once the server listens (control-plane.ts); an app built without it is a wiring bug.
  if (!deps.publicUrl) throw new Error('the control plane has no public URL');
  return `${deps.publicUrl.replace(/\/+$/, '')}${path}`;
}
