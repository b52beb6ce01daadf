import { BerthError } from '../common/errors.js';
import { GRANT_NAMES, type GrantSet } from '../wire/grants.js';
import { parseGrants } from './grants.js';

/**
 * Grants from the command line, `--grant NAME[=VALUE]`, for trying an app locally:
 *   log[=LINES_PER_SECOND]        config=KEY=VALUE       secret=KEY=VALUE
 *   keyvalue[=QUOTA]              files[=QUOTA]          clocks   random
 *   identity=AUDIENCE[,AUDIENCE]  outbound-http=ORIGIN[,ORIGIN]   inbound-http=/ROUTE
 *   messaging=TOPIC[,TOPIC]       (publish and subscribe; pub:TOPIC or sub:TOPIC for one side)
 * QUOTA is bytes with an optional K, M or G suffix.
 */
export function grantsFromFlags(flags: string[]): GrantSet {
  const raw: Record<string, any> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq === -1 ? flag : flag.slice(0, eq);
    const value = eq === -1 ? undefined : flag.slice(eq + 1);
    const need = (): string => {
      if (!value) throw new BerthError('invalid-grant', `--grant ${name} needs a value (${name}=...)`);
      return value;
    };
    switch (name) {
      case 'log':
        raw.log = value ? { linesPerSecond: Number(value), burst: Math.max(1, Number(value) * 2) } : {};
        break;
      case 'config':
      case 'secret': {
        const [key, ...rest] = need().split('=');
        if (!key || rest.length === 0) throw new BerthError('invalid-grant', `--grant ${name} takes KEY=VALUE, got "${value}"`);
        raw.config ??= { values: {}, secrets: [] };
        raw.config.values[key] = rest.join('=');
        if (name === 'secret') raw.config.secrets.push(key);
        break;
      }
      case 'keyvalue':
      case 'files':
        raw[name] = value ? { quotaBytes: parseSize(value) } : {};
        break;
      case 'clocks':
      case 'random':
        raw[name] = {};
        break;
      case 'identity':
        raw.identity = { audiences: need().split(',') };
        break;
      case 'outbound-http':
        raw['outbound-http'] = { allow: need().split(',') };
        break;
      case 'inbound-http':
        raw['inbound-http'] = { route: need() };
        break;
      case 'messaging': {
        raw.messaging ??= { publish: [], subscribe: [] };
        for (const t of need().split(',')) {
          if (t.startsWith('pub:')) raw.messaging.publish.push(t.slice(4));
          else if (t.startsWith('sub:')) raw.messaging.subscribe.push(t.slice(4));
          else raw.messaging.publish.push(t), raw.messaging.subscribe.push(t);
        }
        break;
      }
      default:
        throw new BerthError('invalid-grant', `unknown grant "${name}"; known grants: ${GRANT_NAMES.join(', ')}, secret`);
    }
  }
  return parseGrants(raw);
}

export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim());
  if (!m) throw new BerthError('invalid-grant', `"${text}" is not a size (bytes, or a number with K, M or G)`);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  const factor = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  return Number(m[1]) * factor;
}
