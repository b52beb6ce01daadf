import { httpTypesHost } from '../wasi/http-types.js';
import { needValue, type GrantDefinition } from './definition.js';

// Requests reach the app through the gateway (runtime/gateway/), as calls of its exports: the
// grant lets it import only the shared, authority-free HTTP types.
export const inboundHttpGrant: GrantDefinition<'inbound-http'> = {
  name: 'inbound-http',
  providers: { 'wasi:http/types': () => httpTypesHost },
  flags: {
    'inbound-http': (value, into, flag) => {
      into['inbound-http'] = { route: needValue(flag, value) };
    },
  },
  usage: 'inbound-http=/ROUTE',
};
