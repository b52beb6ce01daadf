import { createRequire } from 'node:module';
import type * as NodeCrypto from 'node:crypto';

let loaded: typeof NodeCrypto | undefined;

/**
 * `node:crypto`, loaded at its first use rather than when the host APIs are: loading it takes
 * ~3 ms of a fresh sandbox thread's start, and an app only needs it once it asks for random
 * bytes, names a keyvalue entry or opens its files.
 */
export function nodeCrypto(): typeof NodeCrypto {
  return (loaded ??= createRequire(import.meta.url)('node:crypto') as typeof NodeCrypto);
}
