import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256Digest, type Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import { lastKnownGoodDocuments } from './last-known-good.js';

/**
 * The last desired state this device adopted, on disk (`<data>/desired/`): `state.json` (version,
 * ETag, manifest digest, deployment digests; replaced atomically) and each ApplicationDeployment
 * document under `documents/<hex of its digest>.yaml`, its exact bytes. Documents are checked
 * against their digests when loaded, so a corrupted file is noticed and not run.
 */
export interface AdoptedState {
  deviceId: string;
  manifestVersion: number;
  etag: string;
  manifestDigest: string;
  deployments: { deploymentId: string; digest: Digest }[];
  adoptedAt: string;
}

export interface LoadedDocument {
  deploymentId: string;
  digest: Digest;
  bytes: Buffer;
}

export class AdoptedStateStore {
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.dir = join(dataDir, 'desired');
  }

  private documentPath(digest: Digest): string {
    return join(this.dir, 'documents', `${digestHex(digest)}.yaml`);
  }

  async load(deviceId: string): Promise<AdoptedState | undefined> {
    const text = await readTextFile(join(this.dir, 'state.json'));
    if (!text) return undefined;
    let state: AdoptedState;
    try {
      state = JSON.parse(text) as AdoptedState;
    } catch {
      throw new BerthError('agent.bad_state', `${join(this.dir, 'state.json')} is not JSON; remove it to start from no adopted state`);
    }
    if (state.deviceId !== deviceId) {
      securityEvent(this.logger, 'agent.state_foreign_device', { deviceId, stateFor: state.deviceId });
      throw new BerthError('agent.state_foreign_device', `the adopted state on disk is for device '${state.deviceId}', not '${deviceId}'`);
    }
    return state;
  }

  /** A stored document, or undefined when it is missing or no longer matches its digest. */
  async document(deploymentId: string, digest: Digest): Promise<LoadedDocument | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.documentPath(digest));
    } catch {
      return undefined;
    }
    if (sha256Digest(bytes) !== digest) {
      securityEvent(this.logger, 'agent.document_corrupted', { deploymentId, digest });
      return undefined;
    }
    return { deploymentId, digest, bytes };
  }

  async putDocument(doc: LoadedDocument): Promise<void> {
    await mkdir(join(this.dir, 'documents'), { recursive: true, mode: 0o700 });
    await writePrivateFile(this.documentPath(doc.digest), doc.bytes.toString('utf8'));
  }

  /** Persists a newly adopted state; never a version lower than the one on disk. */
  async save(state: AdoptedState): Promise<void> {
    const previous = await this.load(state.deviceId).catch(() => undefined);
    if (previous && state.manifestVersion < previous.manifestVersion) {
      throw new BerthError('agent.version_lowered', `refusing to store manifestVersion ${state.manifestVersion} over the adopted ${previous.manifestVersion}`);
    }
    await writePrivateFile(join(this.dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
    // Only the adopted state's documents are read again (offline restore), and the last known
    // good ones a rollback may go back to (docs/agent.md, "Last-known-good"): the rest go.
    const keep = [...state.deployments.map((d) => d.digest), ...(await lastKnownGoodDocuments(this.dir))];
    const named = new Set(keep.map((d) => `${digestHex(d as Digest)}.yaml`));
    for (const file of await readdir(join(this.dir, 'documents')).catch(() => [] as string[])) {
      if (!named.has(file)) await rm(join(this.dir, 'documents', file), { force: true });
    }
  }
}
