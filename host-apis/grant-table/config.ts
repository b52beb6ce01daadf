import { BerthError } from '../../common/errors.js';
import { createConfigHost } from '../config.js';
import { needValue, type FlagParser, type GrantDefinition } from './definition.js';

const keyValue: FlagParser = (value, into, flag) => {
  const [key, ...rest] = needValue(flag, value).split('=');
  if (!key || rest.length === 0) throw new BerthError('invalid-grant', `--grant ${flag} takes KEY=VALUE, got "${value}"`);
  into.config ??= { values: {}, secrets: [] };
  into.config.values[key] = rest.join('=');
  if (flag === 'secret') into.config.secrets.push(key);
};

export const configGrant: GrantDefinition<'config'> = {
  name: 'config',
  providers: { 'berth:host/config': ({ context }) => createConfigHost(context.grants.config!) },
  flags: { config: keyValue, secret: keyValue },
  usage: 'config=KEY=VALUE  secret=KEY=VALUE',
  forLog: (grant) => {
    const secrets = new Set(grant.secrets);
    return { ...grant, values: Object.fromEntries(Object.entries(grant.values).map(([k, v]) => [k, secrets.has(k) ? '[secret]' : v])) };
  },
};
