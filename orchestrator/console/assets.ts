import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { distPath } from '../../common/paths.js';

/**
 * The web console's files, as `npm run build` writes them (scripts/bundle-console.mjs). Only
 * these names are served: a fixed list, so no request path ever reaches the file system.
 */
export const CONSOLE_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export interface ConsoleAsset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** A strong validator: the SHA-256 of the bytes, so a rebuilt console is fetched again. */
  etag: string;
}

/** The console's files read from `dir`, or undefined when the console was not built. */
export function loadConsoleAssets(dir: string = distPath('console')): Map<string, ConsoleAsset> | undefined {
  const assets = new Map<string, ConsoleAsset>();
  for (const [name, contentType] of Object.entries(CONSOLE_FILES)) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      return undefined;
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    // A copy in its own ArrayBuffer: what a Response body takes.
    assets.set(name, { body: Uint8Array.from(body), contentType, etag });
  }
  return assets;
}

/**
 * What every console answer carries. The page runs only its own script and style and talks only
 * to this origin (no inline code, no external requests); it may not be framed.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Revalidated on every load (a cheap 304 by ETag): an upgraded control plane serves its own console at once.
  'cache-control': 'no-cache',
};
