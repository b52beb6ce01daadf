import { once } from '../per-instance.js';
import { createRandomHost, type RandomHost } from '../wasi/random.js';
import type { InstanceServices } from '../linker.js';
import { part, type GrantDefinition } from './definition.js';

const random = once((_: InstanceServices): RandomHost => createRandomHost());

export const randomGrant: GrantDefinition<'random'> = {
  name: 'random',
  providers: {
    'wasi:random/random': part(random, 'wasi:random/random'),
    'wasi:random/insecure': part(random, 'wasi:random/insecure'),
    'wasi:random/insecure-seed': part(random, 'wasi:random/insecure-seed'),
  },
  flags: {
    random: (_value, into) => {
      into.random = {};
    },
  },
  usage: 'random',
};
