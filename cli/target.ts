import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AdminTarget } from '../orchestrator/admin/client.js';
import { configPath, readConfig } from './config.js';
import { UsageError } from './usage.js';

/** The options every API command takes to say where the control plane is (TARGET_OPTIONS). */
export interface TargetValues {
  'data-dir'?: string;
  url?: string;
  token?: string;
  ca?: string;
  context?: string;
}

export const DEFAULT_DATA_DIR = '.berth/orchestrator';

/**
 * Where an API command sends its requests, decided here only: --url with --token and --ca;
 * else --data-dir's admin socket; else the context named by --context, $BERTH_CONTEXT or the
 * config's current context (berth login); else the admin socket of ./.berth/orchestrator.
 */
export async function resolveTarget(values: TargetValues): Promise<AdminTarget> {
  const { socketTarget } = await import('../orchestrator/admin/client.js');
  if (values.url) {
    if (!values.token || !values.ca) throw new UsageError('--url needs --token and --ca (the fleet root, PEM)');
    return { kind: 'https', url: values.url, token: values.token, ca: readCaFile(values.ca) };
  }
  if (values.token || values.ca) throw new UsageError('--token and --ca go with --url');
  if (values['data-dir']) return socketTarget(resolve(values['data-dir']));
  const config = readConfig();
  const name = values.context ?? (process.env.BERTH_CONTEXT || undefined) ?? config['current-context'];
  if (name !== undefined) {
    const context = config.contexts[name];
    if (!context) throw new UsageError(`no context '${name}' in ${configPath()}; see berth context list`);
    return { kind: 'https', ...context };
  }
  return socketTarget(resolve(DEFAULT_DATA_DIR));
}

/** The fleet root from --ca; a file that cannot be read is the command's fault, named. */
export function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca ${path}: ${(err as Error).message}`);
  }
}
