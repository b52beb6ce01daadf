import { BerthError } from '../common/errors.js';
import type { AppIdentity, AppLogSink } from './app-context.js';
import { secretRedactor } from './config.js';
import type { GrantSet } from '../wire/grants.js';
import { checkImports, interfaceName } from './import-policy.js';
import { GRANT_DEFINITIONS, type Provider } from './grant-table/index.js';
import { AppLogger, DEFAULT_LOG_GRANT } from './log.js';
import { baselineProviders } from './wasi-providers.js';

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

/**
 * Every host object this runtime can link, by interface: the baseline ones (no authority) and
 * each grant's (host-apis/grant-table/). Which of them an instance gets is decided by its grants,
 * in `checkImports`, before any is built. An interface two grants share (`wasi:http/types`) is
 * authority-free and built the same by both.
 */
const PROVIDERS: ReadonlyMap<string, Provider> = new Map([
  ...Object.entries(baselineProviders()),
  ...GRANT_DEFINITIONS.flatMap((d) => Object.entries(d.providers)),
]);

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
  const imports: Record<string, unknown> = {};
  for (const name of componentImports) {
    const iface = interfaceName(name);
    if (iface in imports) continue;
    const provider = PROVIDERS.get(iface);
    if (!provider)
      throw new BerthError('import-not-granted', `app ${app} refused: ${name} has no host implementation in this runtime`, { app, refused: [name] });
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
