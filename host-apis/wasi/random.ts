/** `wasi:random/random`, `wasi:random/insecure` and `wasi:random/insecure-seed`, from node:crypto. */
import { nodeCrypto } from '../node-crypto.js';
import { clampU64 } from './result.js';

/** Above this a request is a guest bug or an attack on host memory: it traps. */
export const MAX_RANDOM_BYTES = 1 << 20;

export interface RandomHost {
  'wasi:random/random': { getRandomBytes(len: bigint): Uint8Array; getRandomU64(): bigint };
  'wasi:random/insecure': { getInsecureRandomBytes(len: bigint): Uint8Array; getInsecureRandomU64(): bigint };
  'wasi:random/insecure-seed': { insecureSeed(): [bigint, bigint] };
}

function bytes(len: bigint): Uint8Array {
  const n = clampU64(len, MAX_RANDOM_BYTES + 1);
  if (n > MAX_RANDOM_BYTES) throw new RangeError(`get-random-bytes: ${len} bytes asked, at most ${MAX_RANDOM_BYTES} served`);
  return nodeCrypto().randomFillSync(new Uint8Array(n));
}

function u64(): bigint {
  return nodeCrypto().randomBytes(8).readBigUInt64LE(0);
}

export function createRandomHost(): RandomHost {
  return {
    'wasi:random/random': { getRandomBytes: bytes, getRandomU64: u64 },
    // The "insecure" sources are the secure one: it is cheap enough and never worse.
    'wasi:random/insecure': { getInsecureRandomBytes: bytes, getInsecureRandomU64: u64 },
    'wasi:random/insecure-seed': { insecureSeed: () => [u64(), u64()] },
  };
}
