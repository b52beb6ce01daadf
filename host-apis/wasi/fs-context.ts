/** What one app's filesystem host knows: its confined root, its quota, its mode. */
import type { DiskQuota } from './fs-quota.js';

export interface FsContext {
  /** realpath of the app's data directory: every host path starts here. */
  readonly root: string;
  readonly readOnly: boolean;
  readonly quota: DiskQuota;
  /** Per-host key so metadata hashes reveal nothing about host inode numbers. */
  readonly hashKey: Buffer;
}
