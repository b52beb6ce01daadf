import type { InstanceServices } from './linker.js';

/**
 * WASI interfaces, built per instance from Berth's own WASI subset (host-apis/wasi/).
 * Filled in as that subset lands; an interface missing here is refused at link time.
 */
export function wasiProviders(): Record<string, (services: InstanceServices) => unknown> {
  return {};
}
