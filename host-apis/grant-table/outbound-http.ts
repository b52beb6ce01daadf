import type { InstanceServices } from '../linker.js';
import { once } from '../per-instance.js';
import { createOutgoingHandler } from '../wasi/http-outgoing-handler.js';
import { httpTypesHost } from '../wasi/http-types.js';
import { needValue, type GrantDefinition } from './definition.js';

// HTTP (docs/http.md): a per-instance outgoing handler from the grant; the requests themselves
// are made on the main thread (runtime/http/handlers.ts).
const outgoingHttp = once(({ context, logger }: InstanceServices) =>
  createOutgoingHandler({
    grant: context.grants['outbound-http']!,
    hostCall: context.hostCall,
    warn: (message) => logger.write({ level: 'warn', message, source: 'host' }),
  }),
);

export const outboundHttpGrant: GrantDefinition<'outbound-http'> = {
  name: 'outbound-http',
  providers: {
    'wasi:http/outgoing-handler': outgoingHttp,
    // The shared HTTP types carry no authority; they come with either HTTP grant.
    'wasi:http/types': () => httpTypesHost,
  },
  flags: {
    'outbound-http': (value, into, flag) => {
      into['outbound-http'] = { allow: needValue(flag, value).split(',') };
    },
  },
  usage: 'outbound-http=ORIGIN[,ORIGIN]',
};
