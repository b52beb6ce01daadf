import { once } from '../per-instance.js';
import { createClocksHost, type ClocksHost } from '../wasi/clocks.js';
import type { InstanceServices } from '../linker.js';
import { part, type GrantDefinition } from './definition.js';

const clocks = once((_: InstanceServices): ClocksHost => createClocksHost());

export const clocksGrant: GrantDefinition<'clocks'> = {
  name: 'clocks',
  providers: {
    'wasi:clocks/wall-clock': part(clocks, 'wasi:clocks/wall-clock'),
    'wasi:clocks/monotonic-clock': part(clocks, 'wasi:clocks/monotonic-clock'),
  },
  flags: {
    clocks: (_value, into) => {
      into.clocks = {};
    },
  },
  usage: 'clocks',
};
