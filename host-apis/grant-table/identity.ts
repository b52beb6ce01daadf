import { needValue, type GrantDefinition } from './definition.js';

export const identityGrant: GrantDefinition<'identity'> = {
  name: 'identity',
  providers: {
    // Tokens are signed on the main thread (runtime/identity/token-handlers.ts), which checks the audience again.
    'berth:host/identity': ({ context }) => ({
      getToken(audience: string): string {
        const grant = context.grants.identity!;
        if (!grant.audiences.includes(audience)) throw { payload: { tag: 'audience-not-granted', val: audience } };
        if (!context.hostCall) throw { payload: { tag: 'unavailable', val: 'this device cannot sign workload tokens' } };
        return context.hostCall('identity.getToken', [audience]) as string;
      },
    }),
  },
  flags: {
    identity: (value, into, flag) => {
      into.identity = { audiences: needValue(flag, value).split(',') };
    },
  },
  usage: 'identity=AUDIENCE[,AUDIENCE]',
};
