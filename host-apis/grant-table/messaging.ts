import { createMessagingHost } from '../messaging.js';
import { needValue, type GrantDefinition } from './definition.js';

export const messagingGrant: GrantDefinition<'messaging'> = {
  name: 'messaging',
  // The broker lives on the main thread (runtime/messaging/); the host object calls it there.
  providers: { 'berth:host/messaging': ({ context }) => createMessagingHost(context.grants.messaging!, context.hostCall) },
  flags: {
    messaging: (value, into, flag) => {
      into.messaging ??= { publish: [], subscribe: [] };
      for (const t of needValue(flag, value).split(',')) {
        if (t.startsWith('pub:')) into.messaging.publish.push(t.slice(4));
        else if (t.startsWith('sub:')) into.messaging.subscribe.push(t.slice(4));
        else (into.messaging.publish.push(t), into.messaging.subscribe.push(t));
      }
    },
  },
  usage: 'messaging=TOPIC[,TOPIC]  (publish and subscribe; pub:TOPIC or sub:TOPIC for one side)',
};
