import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BerthError } from '../common/errors.js';
import { NAME_PATTERN } from '../wire/ids.js';
import type { GrantSet } from '../wire/grants.js';
import { checkImports } from '../host-apis/import-policy.js';
import type { CompiledComponent, Engine } from './engine/engine.js';
import { DEFAULT_LIMITS, type AppLimits, type AppSpec } from './sandbox/sandbox.js';

/** What a vendor or app name may be (wire/ids.ts); it names a folder on the device, so nothing else is ever made there. */
export const NAME = NAME_PATTERN;

/** The folder that holds one app's state under a device's data folder. */
export function appDataDir(dataRoot: string, vendor: string, app: string): string {
  return join(dataRoot, 'apps', vendor, app);
}

export interface PrepareAppOptions {
  vendor: string;
  app: string;
  grants: GrantSet;
  limits?: Partial<AppLimits>;
  /** The device's data folder; the app's own folder is made inside it. */
  dataRoot: string;
}

/**
 * Everything before an app's first sandbox, the same on a device (`Runtime.startApp`) and on a
 * laptop (`runOnce`): names checked, compiled once per digest and limit, imports checked against
 * the grants, and the app's own data folder made owner-only when a grant keeps state there.
 */
export async function prepareApp(engine: Engine, bytes: Uint8Array, options: PrepareAppOptions): Promise<{ compiled: CompiledComponent; spec: AppSpec }> {
  for (const [what, value] of [
    ['vendor', options.vendor],
    ['app', options.app],
  ] as const) {
    if (!NAME.test(value)) throw new BerthError('invalid-name', `${what} name "${value}" must be 1-63 of a-z 0-9 . _ - starting with a letter or digit`);
  }
  const limits: AppLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const compiled = await engine.compile(bytes, { memoryLimitBytes: limits.memoryBytes });
  checkImports(`${options.vendor}/${options.app}`, compiled.info.imports, options.grants);
  const dataDir = appDataDir(options.dataRoot, options.vendor, options.app);
  // Only the grants that keep state need the folder; making it for every app cost ~1 ms a start.
  if (options.grants.keyvalue || options.grants.files) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const spec: AppSpec = {
    identity: { vendor: options.vendor, app: options.app, instance: randomUUID() },
    digest: compiled.digest,
    grants: options.grants,
    dataDir,
    limits,
  };
  return { compiled, spec };
}
