import { camelCase, pascalCase, type FuncType } from './types.js';

/** Which JavaScript a guest's call into an imported function reaches, by its WIT name. */
export interface HostFunc {
  /** The interface without its version, as Berth's host objects are keyed (`wasi:io/streams`). */
  iface: string;
  /** The WIT name inside the interface (`[method]input-stream.read`). */
  name: string;
  type: FuncType;
  call: (host: Record<string, unknown>, args: unknown[]) => unknown;
}

export function unversioned(iface: string): string {
  const at = iface.indexOf('@');
  return at === -1 ? iface : iface.slice(0, at);
}

/**
 * Maps a WIT function name to the call jco's convention makes of the same host object:
 * `[constructor]r` is `new R(...)`, `[method]r.f` is `self.f(...)`, `[static]r.f` is `R.f(...)`,
 * anything else a plain function of the interface object.
 */
export function hostFunc(ifaceName: string, name: string, type: FuncType): HostFunc {
  const iface = unversioned(ifaceName);
  const describe = (what: string) => new TypeError(`${ifaceName}: the host has no ${what} for ${name}`);
  const [, special, rest] = /^\[(constructor|method|static)\](.*)$/.exec(name) ?? [];
  if (special === 'constructor') {
    const cls = pascalCase(rest!);
    return {
      iface,
      name,
      type,
      call: (host, args) => {
        const C = host[cls];
        if (typeof C !== 'function') throw describe(`class ${cls}`);
        return new (C as new (...a: unknown[]) => unknown)(...args);
      },
    };
  }
  if (special === 'method' || special === 'static') {
    const dot = rest!.indexOf('.');
    const cls = pascalCase(rest!.slice(0, dot));
    const fn = camelCase(rest!.slice(dot + 1));
    if (special === 'method') {
      return {
        iface,
        name,
        type,
        call: (_host, [self, ...args]) => {
          const f = (self as Record<string, unknown> | undefined)?.[fn];
          if (typeof f !== 'function') throw describe(`method ${cls}.${fn}`);
          return (f as (...a: unknown[]) => unknown).apply(self, args);
        },
      };
    }
    return {
      iface,
      name,
      type,
      call: (host, args) => {
        const f = (host[cls] as Record<string, unknown> | undefined)?.[fn];
        if (typeof f !== 'function') throw describe(`static ${cls}.${fn}`);
        return (f as (...a: unknown[]) => unknown).apply(host[cls], args);
      },
    };
  }
  const fn = camelCase(name);
  return {
    iface,
    name,
    type,
    call: (host, args) => {
      const f = host[fn];
      if (typeof f !== 'function') throw describe(`function ${fn}`);
      return (f as (...a: unknown[]) => unknown)(...args);
    },
  };
}
