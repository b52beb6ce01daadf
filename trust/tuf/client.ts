import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MetadataKind } from '@tufjs/models';
import { Updater, type Fetcher } from 'tuf-js';
import { DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js';
import { BerthError, errorMessage } from '../../common/errors.js';
import { writePrivateFile } from '../key-files.js';
import { TUF_METADATA_PATH, TUF_TARGETS_PATH } from '../../wire/tuf.js';
import { parseRoot, tufRootFingerprint } from './root.js';

/**
 * A device's side of the fleet's TUF repository (docs/tuf.md): the root it was given, pinned by
 * its fingerprint, then one update round at a time (TUF's client workflow, run by tuf-js), each
 * giving the trust documents only as the signed targets list them. Every refusal is a BerthError
 * naming the attack class it stops.
 */

/** Pins `root` (bytes as served) in `dir`: only if its sha256 is the fingerprint configured or enrolled with. */
export async function pinRoot(dir: string, root: Buffer, fingerprintSha256: string): Promise<void> {
  const actual = tufRootFingerprint(root);
  if (actual !== fingerprintSha256.toLowerCase())
    throw new BerthError('tuf.root_fingerprint', `the TUF root offered has sha256 ${actual}, not the configured ${fingerprintSha256}: not trusted`);
  let parsed;
  try {
    parsed = parseRoot(JSON.parse(root.toString('utf8')));
    parsed.verifyDelegate(MetadataKind.Root, parsed);
  } catch (err) {
    throw new BerthError('tuf.root_untrusted', `the pinned TUF root does not verify by its own keys: ${errorMessage(err)}`);
  }
  await mkdir(join(dir, 'targets'), { recursive: true, mode: 0o700 });
  await writePrivateFile(join(dir, 'root.json'), root.toString('utf8'));
}

export interface TufTrustClientOptions {
  /** Where the trusted metadata and verified targets are kept between rounds (root.json pinned in it). */
  dir: string;
  /** The control plane's base URL. */
  url: string;
  fetcher: Fetcher;
}

export class TufTrustClient {
  constructor(private readonly o: TufTrustClientOptions) {}

  /**
   * One update round, then each of `paths` as the verified targets list it (from the local cache
   * when its hash is unchanged). tuf-js keeps state for one refresh only, so each round is a new
   * updater over the same metadata folder.
   */
  async update(paths: readonly string[]): Promise<Map<string, Buffer>> {
    const updater = new Updater({
      metadataDir: this.o.dir,
      metadataBaseUrl: this.o.url + TUF_METADATA_PATH,
      targetDir: join(this.o.dir, 'targets'),
      targetBaseUrl: this.o.url + TUF_TARGETS_PATH,
      fetcher: this.o.fetcher,
    });
    const found = new Map<string, Buffer>();
    try {
      await updater.refresh();
      for (const path of paths) {
        const info = await updater.getTargetInfo(path);
        if (!info) throw new BerthError('tuf.target_missing', `the signed targets do not list ${path}`);
        found.set(path, await readFile((await updater.findCachedTarget(info)) ?? (await updater.downloadTarget(info))));
      }
    } catch (err) {
      throw tufRefusal(err);
    }
    return found;
  }
}

/**
 * What went wrong, as a named refusal. tuf-js wraps some failures in a RuntimeError that keeps
 * only the message, and its error classes carry no names, so the message decides where the class
 * does not.
 */
export function tufRefusal(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const message = errorMessage(err);
  const refusal = (code: string, what: string) => new BerthError(`tuf.${code}`, `TUF update refused (${what}): ${message}`, undefined, { cause: err });
  if (err instanceof DownloadLengthMismatchError || /Max length reached/.test(message)) return refusal('too_large', 'more data than the signed length');
  if (/signed by \d+\/\d+ keys/.test(message)) return refusal('bad_signature', 'not signed by a threshold of the trusted keys');
  if (/expired/i.test(message)) return refusal('expired', 'metadata past its expiry: a frozen repository');
  if (/Expected (hash|length)/.test(message)) return refusal('hash_mismatch', 'a file not matching its signed hash or length');
  if (/less than current version|equal to current version|less than current/.test(message)) return refusal('rollback', 'older than metadata already trusted');
  if (/does not match snapshot version|doesn't match timestamp|Expected version/.test(message))
    return refusal('version_mismatch', 'metadata versions that do not belong together');
  if (err instanceof DownloadHTTPError || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|no answer within|HTTP \d{3}/.test(message))
    return refusal('unreachable', 'the repository could not be read');
  if (err instanceof SyntaxError || /JSON|Unexpected token/.test(message)) return refusal('malformed', 'not TUF metadata');
  return refusal('repository', 'the repository is not consistent');
}
