import type { Logger } from '../common/logger.js';
import type { DeviceSigner } from '../trust/workload/token.js';
import type { GrantName } from '../wire/grants.js';
import type { UsageLedger } from './accounting/ledger.js';
import { withOutboundHttp } from './http/handlers.js';
import { withWorkloadIdentity } from './identity/token-handlers.js';
import type { MessageBroker } from './messaging/broker.js';
import { withMessaging } from './messaging/handlers.js';
import type { SandboxFactory } from './sandbox/sandbox.js';

/** The device's shared services that main-thread grant handlers are built from. */
export interface MainThreadServices {
  broker: MessageBroker;
  logger?: Logger;
  usage?: UsageLedger;
  /** Signs workload tokens; without it `identity` gets no handler here (an embedder may bring its own). */
  workloadSigner?: () => DeviceSigner | undefined;
}

/** Adds one grant's bridge handlers (the main-thread half of its host API) to each instance a factory starts. */
type GrantHandlers = (factory: SandboxFactory, services: MainThreadServices) => SandboxFactory;

/**
 * The main-thread half of the grant table (host-apis/grant-table/): what each grant's host object
 * calls across the bridge, answered on this thread. Kept apart from the table because sandbox
 * threads load the table and must not load these (sockets, the broker, the device key). Keyed by
 * the wire vocabulary, so a new grant does not compile until it says whether it has any.
 */
export const GRANT_HANDLERS: { readonly [N in GrantName]: GrantHandlers | undefined } = {
  log: undefined,
  config: undefined,
  keyvalue: undefined,
  files: undefined,
  'outbound-http': (factory, { logger, usage }) => withOutboundHttp(factory, { logger, usage }),
  // Requests come in through the gateway, which calls the app's exports: nothing is bridged.
  'inbound-http': undefined,
  messaging: (factory, { broker }) => withMessaging(factory, broker),
  identity: (factory, { workloadSigner }) => (workloadSigner ? withWorkloadIdentity(factory, workloadSigner) : factory),
  clocks: undefined,
  random: undefined,
};

/**
 * A factory whose instances get every grant's main-thread handlers. The handlers' method names
 * are disjoint, so the order they wrap in does not matter; handlers the runtime's hooks bring
 * (RuntimeOptions.hostHandlers) win over the table's.
 */
export function withGrantHandlers(factory: SandboxFactory, services: MainThreadServices): SandboxFactory {
  return Object.values(GRANT_HANDLERS).reduce((wrapped: SandboxFactory, add) => add?.(wrapped, services) ?? wrapped, factory);
}
