import { join } from 'node:path';
import { BerthError } from '../common/errors.js';
import type { AppIdentity, AppLogSink } from './app-context.js';
import { createConfigHost, secretRedactor } from './config.js';
import type { GrantSet } from '../wire/grants.js';
import { checkImports, interfaceName } from './import-policy.js';
import { createKeyvalueHost, KeyvalueStore } from './keyvalue.js';
import { AppLogger, createLogHost, DEFAULT_LOG_GRANT } from './log.js';
import { createMessagingHost } from './messaging.js';
import { wasiProviders } from './wasi-providers.js';

/**
 * Everything an app instance's host APIs are built from. One context per instance: nothing in
 * it is shared with another app, so no host API can reach another app's data.
 */
export interface HostContext {
  identity: AppIdentity;
  grants: GrantSet;
  /** The app's own folder on the device; host APIs keep their state in subfolders of it. */
  dataDir: string;
  logSink: AppLogSink;
  /** For host work that is asynchronous on the host side (tokens, HTTP); absent in unit tests. */
  hostCall?: (method: string, args: unknown[]) => unknown;
  /** Accounting (docs/accounting.md): told of every guest call into an imported interface. */
  countHostCall?: (iface: string) => void;
}

/** State that several host APIs of one instance share (one logger, one rate limit). */
export interface InstanceServices {
  context: HostContext;
  logger: AppLogger;
}

type Provider = (services: InstanceServices) => unknown;

const berthProviders: Record<string, Provider> = {
  'berth:host/log': ({ logger }) => createLogHost(logger),
  'berth:host/config': ({ context }) => createConfigHost(context.grants.config!),
  'berth:host/keyvalue': ({ context }) =>
    createKeyvalueHost(new KeyvalueStore(join(context.dataDir, 'keyvalue'), context.grants.keyvalue!.quotaBytes)),
  'berth:host/identity': ({ context }) => ({
    getToken(audience: string): string {
      const grant = context.grants.identity!;
      if (!grant.audiences.includes(audience)) throw { payload: { tag: 'audience-not-granted', val: audience } };
      if (!context.hostCall) throw { payload: { tag: 'unavailable', val: 'this device cannot sign workload tokens' } };
      return context.hostCall('identity.getToken', [audience]) as string;
    },
  }),
  'berth:host/messaging': ({ context }) => createMessagingHost(context.grants.messaging!, context.hostCall),
};

export interface LinkedInstance {
  /** The import object for jco's `instantiate`, keyed by unversioned interface name. */
  imports: Record<string, unknown>;
  services: InstanceServices;
}

/**
 * Builds the host side of exactly the interfaces the component imports, each from its grant.
 * The import check runs again here (it ran at admission too): an ungranted import is refused
 * before any host object is created.
 */
export function linkHostApis(componentImports: string[], context: HostContext): LinkedInstance {
  const app = `${context.identity.vendor}/${context.identity.app}`;
  checkImports(app, componentImports, context.grants);
  const logger = new AppLogger(context.grants.log ?? DEFAULT_LOG_GRANT, context.logSink, secretRedactor(context.grants.config));
  const services: InstanceServices = { context, logger };
  const wasi = wasiProviders();
  const imports: Record<string, unknown> = {};
  for (const name of componentImports) {
    const iface = interfaceName(name);
    if (iface in imports) continue;
    const provider = berthProviders[iface] ?? wasi[iface];
    if (!provider) throw new BerthError('import-not-granted', `app ${app} refused: ${name} has no host implementation in this runtime`, { app, refused: [name] });
    const host = provider(services);
    imports[iface] = context.countHostCall ? countingCalls(host, iface, context.countHostCall) : host;
  }
  return { imports, services };
}

/**
 * Accounting (docs/accounting.md): a view of an interface's host object whose plain functions
 * count each call. Everything else (classes for resources, which the glue's `instanceof` checks
 * need as they are; getters; inherited methods) reads through unchanged; resource methods are
 * not counted. The proxy's target is an empty object, so a frozen host object is fine.
 */
function countingCalls(host: unknown, iface: string, count: (iface: string) => void): unknown {
  if (!host || typeof host !== 'object') return host;
  const source = host as Record<PropertyKey, unknown>;
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(Object.create(null) as object, {
    has: (_, key) => key in source,
    get: (_, key) => {
      const value = source[key];
      if (typeof value !== 'function' || /^class[\s{]/.test(Function.prototype.toString.call(value))) return value;
      let wrapper = wrappers.get(key);
      if (!wrapper) {
        wrapper = (...args: unknown[]) => {
          count(iface);
          return (value as (...a: unknown[]) => unknown).apply(source, args);
        };
        wrappers.set(key, wrapper);
      }
      return wrapper;
    },
  });
}
