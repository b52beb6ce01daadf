import { parseGrants } from '../../host-apis/grants.js';
import type { CompiledComponent } from '../../runtime/engine/engine.js';
import { DEFAULT_LIMITS, type AppSpec } from '../../runtime/sandbox/sandbox.js';
import { suiteTempDir } from './tmp.js';

/** What a sandbox started directly (without a runtime) needs for a `hello`-like app granted `log`. */
export function logAppSpec(compiled: CompiledComponent, app: string, memoryBytes: number): AppSpec {
  return {
    identity: { vendor: 'acme', app, instance: app },
    digest: compiled.digest,
    grants: parseGrants({ log: {} }),
    dataDir: suiteTempDir(`${app}-data`),
    limits: { ...DEFAULT_LIMITS, memoryBytes },
  };
}
