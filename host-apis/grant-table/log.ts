import { createLogHost } from '../log.js';
import type { GrantDefinition } from './definition.js';

export const logGrant: GrantDefinition<'log'> = {
  name: 'log',
  // The instance's logger is built by the linker for every instance (stdout goes to it too).
  providers: { 'berth:host/log': ({ logger }) => createLogHost(logger) },
  flags: {
    log: (value, into) => {
      into.log = value ? { linesPerSecond: Number(value), burst: Math.max(1, Number(value) * 2) } : {};
    },
  },
  usage: 'log[=LINES_PER_SECOND]',
};
