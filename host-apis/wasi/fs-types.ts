/** The WIT records of `wasi:filesystem/types` as jco passes them, and conversions from Node. */
import { nodeCrypto } from '../node-crypto.js';
import type { BigIntStats, Dirent, Stats } from 'node:fs';

export type DescriptorType = 'unknown' | 'block-device' | 'character-device' | 'directory' | 'fifo' | 'symbolic-link' | 'regular-file' | 'socket';

export interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  fileIntegritySync?: boolean;
  dataIntegritySync?: boolean;
  requestedWriteSync?: boolean;
  mutateDirectory?: boolean;
}

export interface PathFlags {
  symlinkFollow?: boolean;
}

export interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}

export interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

export type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };

export interface DescriptorStat {
  type: DescriptorType;
  linkCount: bigint;
  size: bigint;
  dataAccessTimestamp: Datetime | undefined;
  dataModificationTimestamp: Datetime | undefined;
  statusChangeTimestamp: Datetime | undefined;
}

export interface DirectoryEntry {
  type: DescriptorType;
  name: string;
}

export interface MetadataHashValue {
  lower: bigint;
  upper: bigint;
}

export function descriptorTypeOf(s: Stats | BigIntStats | Dirent): DescriptorType {
  if (s.isFile()) return 'regular-file';
  if (s.isDirectory()) return 'directory';
  if (s.isSymbolicLink()) return 'symbolic-link';
  if (s.isFIFO()) return 'fifo';
  if (s.isSocket()) return 'socket';
  if (s.isBlockDevice()) return 'block-device';
  if (s.isCharacterDevice()) return 'character-device';
  return 'unknown';
}

function datetimeOf(ns: bigint): Datetime {
  return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
}

export function descriptorStatOf(s: BigIntStats): DescriptorStat {
  return {
    type: descriptorTypeOf(s),
    linkCount: s.nlink,
    size: s.size,
    dataAccessTimestamp: datetimeOf(s.atimeNs),
    dataModificationTimestamp: datetimeOf(s.mtimeNs),
    statusChangeTimestamp: datetimeOf(s.ctimeNs),
  };
}

/**
 * A keyed hash of (device, inode): equal for the same file, stable for the life of the host,
 * and revealing nothing about the host's inode numbers.
 */
export function metadataHashOf(key: Buffer, s: Stats | BigIntStats): MetadataHashValue {
  const digest = nodeCrypto().createHash('sha256').update(key).update(`${s.dev}:${s.ino}`).digest();
  return { lower: digest.readBigUInt64LE(0), upper: digest.readBigUInt64LE(8) };
}

/** The seconds value Node's utimes wants for a WASI timestamp (`current` for no-change). */
export function utimeSeconds(ts: NewTimestamp, currentNs: bigint): number {
  switch (ts?.tag) {
    case 'no-change':
      return Number(currentNs) / 1e9;
    case 'now':
      return Date.now() / 1000;
    case 'timestamp':
      if (ts.val.nanoseconds < 0 || ts.val.nanoseconds >= 1e9) throw Object.assign(new Error('bad timestamp'), { code: 'EINVAL' });
      return Number(ts.val.seconds) + ts.val.nanoseconds / 1e9;
    default:
      throw Object.assign(new Error('bad timestamp'), { code: 'EINVAL' });
  }
}
