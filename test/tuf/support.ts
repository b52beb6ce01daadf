import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Updater } from 'tuf-js';
import { HttpsTufFetcher } from '../../trust/tuf/https-fetcher.js';
import { TUF_METADATA_PATH, TUF_TARGETS_PATH } from '../../wire/tuf.js';
import type { Harness } from '../orchestrator/harness.js';

/**
 * A TUF client as a device will run one: tuf-js, trusting exactly the root it is given, its
 * metadata kept in `dir` between rounds. tuf-js's Updater does one refresh: `round()` makes the
 * next, as a device's sync round would.
 */
export function tufClient(h: Harness, trustedRootFile: string, fetcher = new HttpsTufFetcher({ ca: h.ca })): { round(): Updater; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tuf-client-'));
  writeFileSync(join(dir, 'root.json'), readFileSync(trustedRootFile));
  const round = () =>
    new Updater({
      metadataDir: dir,
      metadataBaseUrl: h.cp.url + TUF_METADATA_PATH,
      targetDir: dir,
      targetBaseUrl: h.cp.url + TUF_TARGETS_PATH,
      fetcher,
    });
  return { round, dir };
}

/** A target's text as the client verified it (length and hash against signed targets metadata). */
export async function verifiedTarget(updater: Updater, path: string): Promise<string> {
  const info = await updater.getTargetInfo(path);
  if (!info) throw new Error(`${path} is not a target`);
  return readFileSync(await updater.downloadTarget(info), 'utf8');
}
