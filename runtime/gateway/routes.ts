import { BerthError } from '../../common/errors.js';

/**
 * Route prefixes of the device's gateway. A prefix owns its path and everything below it on a
 * segment boundary (`/a` owns `/a`, `/a/b`, not `/ab`). Two prefixes where one owns the other
 * overlap and are refused at registration, so a request matches at most one app.
 */
export class RouteTable<T> {
  private readonly routes = new Map<string, T>();

  add(prefix: string, target: T): void {
    const p = normalise(prefix);
    for (const existing of this.routes.keys()) {
      if (owns(existing, p) || owns(p, existing)) {
        throw new BerthError('route-overlap', `route ${p} overlaps route ${existing}, which is already served`);
      }
    }
    this.routes.set(p, target);
  }

  remove(prefix: string, target?: T): void {
    const p = normalise(prefix);
    if (target === undefined || this.routes.get(p) === target) this.routes.delete(p);
  }

  match(path: string): { prefix: string; target: T } | undefined {
    for (const [prefix, target] of this.routes) if (owns(prefix, path)) return { prefix, target };
    return undefined;
  }

  prefixes(): string[] {
    return [...this.routes.keys()];
  }
}

function normalise(prefix: string): string {
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(prefix) || prefix.includes('//') || /(^|\/)\.\.?(\/|$)/.test(prefix)) {
    throw new BerthError('invalid-route', `route ${JSON.stringify(prefix)} must be an absolute path without empty, . or .. segments`);
  }
  return prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

/** Whether `prefix` owns `path` (path without its query). */
function owns(prefix: string, path: string): boolean {
  if (prefix === '/') return true;
  return path === prefix || path.startsWith(`${prefix}/`);
}
