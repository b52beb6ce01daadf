import { sha256Digest, type Digest } from '../../common/digest.js';
import { malformed, readComponentShape, type ComponentExtern } from './binary-reader.js';

/** What a vendor's component is and asks for, as `berth inspect` shows it. */
export interface ComponentInfo {
  digest: Digest;
  size: number;
  /** Interface and function names the component imports, with versions, e.g. `berth:host/log@0.1.0`. */
  imports: string[];
  exports: string[];
}

/** Components larger than this are refused before any parsing (a device has little memory). */
export const MAX_COMPONENT_BYTES = 64 * 1024 * 1024;

export function inspectComponent(bytes: Uint8Array): ComponentInfo {
  if (bytes.length > MAX_COMPONENT_BYTES) {
    throw malformed(`${bytes.length} bytes is over the ${MAX_COMPONENT_BYTES}-byte limit`);
  }
  const shape = readComponentShape(bytes);
  return {
    digest: sha256Digest(bytes),
    size: bytes.length,
    imports: names(shape.imports),
    exports: names(shape.exports),
  };
}

function names(externs: ComponentExtern[]): string[] {
  return externs.map((e) => e.name);
}

/** `wasi:cli/environment@0.2.3` → `wasi:cli/environment`; plain names stay as they are. */
export function unversioned(name: string): string {
  const at = name.indexOf('@');
  return at === -1 ? name : name.slice(0, at);
}
