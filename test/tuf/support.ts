import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinRoot, TufTrustClient } from '../../trust/tuf/client.js';
import { HttpsTufFetcher } from '../../trust/tuf/https-fetcher.js';
import { tufRootFingerprint } from '../../trust/tuf/root.js';
import type { Harness } from '../orchestrator/harness.js';

/**
 * The TUF client a device runs (trust/tuf/client.ts), having pinned `trustedRootFile` by its
 * fingerprint, its metadata kept in `dir` between rounds.
 */
export async function tufClient(
  h: Harness,
  trustedRootFile: string,
  fetcher = new HttpsTufFetcher({ ca: h.ca }),
): Promise<{ client: TufTrustClient; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tuf-client-'));
  const root = readFileSync(trustedRootFile);
  await pinRoot(dir, root, tufRootFingerprint(root));
  return { client: new TufTrustClient({ dir, url: h.cp.url, fetcher }), dir };
}

/** A target's text as one update round verified it (length and hash against signed targets metadata). */
export async function verifiedText(client: TufTrustClient, path: string): Promise<string> {
  return (await client.update([path])).get(path)!.toString('utf8');
}
