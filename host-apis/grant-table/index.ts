import type { GrantName } from '../../wire/grants.js';
import { clocksGrant } from './clocks.js';
import { configGrant } from './config.js';
import type { AnyGrantDefinition, GrantDefinition } from './definition.js';
import { filesGrant } from './files.js';
import { identityGrant } from './identity.js';
import { inboundHttpGrant } from './inbound-http.js';
import { keyvalueGrant } from './keyvalue.js';
import { logGrant } from './log.js';
import { messagingGrant } from './messaging.js';
import { outboundHttpGrant } from './outbound-http.js';
import { randomGrant } from './random.js';

/**
 * Every grant of the wire vocabulary (wire/grants.ts) and how this runtime implements it. Keyed
 * by the vocabulary, so a grant added there does not compile until it has an entry here. The
 * import policy, the linker and `--grant` all read this table; none names a grant itself.
 */
export const GRANT_TABLE: { readonly [N in GrantName]: GrantDefinition<N> } = {
  log: logGrant,
  config: configGrant,
  keyvalue: keyvalueGrant,
  files: filesGrant,
  'outbound-http': outboundHttpGrant,
  'inbound-http': inboundHttpGrant,
  messaging: messagingGrant,
  identity: identityGrant,
  clocks: clocksGrant,
  random: randomGrant,
};

export const GRANT_DEFINITIONS: readonly AnyGrantDefinition[] = Object.values(GRANT_TABLE);

export { interfacesOf, type AnyGrantDefinition, type GrantDefinition, type Provider } from './definition.js';
