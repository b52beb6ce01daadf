import { join } from 'node:path';

/**
 * Where a control plane's local admin socket lives in its data directory. Its own module so the
 * CLI's admin client (and shell completion through it) reaches it without loading the control plane.
 */
export function adminSocketPath(dataDir: string): string {
  return join(dataDir, 'admin.sock');
}
