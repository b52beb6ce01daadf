import { join } from 'node:path';
import { parseSize } from '../grant-size.js';
import { createKeyvalueHost, KeyvalueStore } from '../keyvalue.js';
import type { GrantDefinition } from './definition.js';

export const keyvalueGrant: GrantDefinition<'keyvalue'> = {
  name: 'keyvalue',
  providers: {
    'berth:host/keyvalue': ({ context }) => createKeyvalueHost(new KeyvalueStore(join(context.dataDir, 'keyvalue'), context.grants.keyvalue!.quotaBytes)),
  },
  flags: {
    keyvalue: (value, into) => {
      into.keyvalue = value ? { quotaBytes: parseSize(value) } : {};
    },
  },
  usage: 'keyvalue[=QUOTA]',
};
