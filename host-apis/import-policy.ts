import { BerthError } from '../common/errors.js';
import type { GrantName, GrantSet } from '../wire/grants.js';
import { GRANT_DEFINITIONS, interfacesOf } from './grant-table/index.js';

/**
 * Which grant an imported interface needs. Interfaces that carry no authority of their own
 * (streams, polling, an empty environment, stdio that goes to the app's own log) need none;
 * anything not listed here is refused, so a new WASI interface is closed until decided.
 */
const BASELINE = new Set([
  'wasi:io/error',
  'wasi:io/streams',
  'wasi:io/poll',
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
]);

/** Which grants allow each interface, read from the grant table: a grant allows what it provides. */
const BY_INTERFACE: Readonly<Record<string, GrantName[]>> = (() => {
  const byInterface: Record<string, GrantName[]> = {};
  for (const definition of GRANT_DEFINITIONS) {
    for (const iface of interfacesOf(definition)) (byInterface[iface] ??= []).push(definition.name);
  }
  return byInterface;
})();

export type ImportVerdict = { interface: string; allowed: true; grant: GrantName | 'baseline' } | { interface: string; allowed: false; reason: string };

export function interfaceName(importName: string): string {
  const at = importName.indexOf('@');
  return at === -1 ? importName : importName.slice(0, at);
}

export function judgeImport(importName: string, grants: GrantSet): ImportVerdict {
  const iface = interfaceName(importName);
  if (BASELINE.has(iface)) return { interface: importName, allowed: true, grant: 'baseline' };
  const needs = Object.hasOwn(BY_INTERFACE, iface) ? BY_INTERFACE[iface] : undefined;
  if (!needs) return { interface: importName, allowed: false, reason: `${importName} is not offered by Berth to any app` };
  const granted = needs.find((g) => grants[g] !== undefined);
  if (granted) return { interface: importName, allowed: true, grant: granted };
  const which = needs.map((g) => `"${g}"`).join(' or ');
  return { interface: importName, allowed: false, reason: `${importName} needs the ${which} grant, which was not given` };
}

/**
 * Refuses a component whose imports are not all covered by its grants, naming every offending
 * interface and the app. Called at admission and again before every instantiation.
 */
export function checkImports(app: string, imports: string[], grants: GrantSet): void {
  const refused = imports.map((i) => judgeImport(i, grants)).filter((v): v is Extract<ImportVerdict, { allowed: false }> => !v.allowed);
  if (refused.length === 0) return;
  const list = refused.map((r) => r.reason).join('; ');
  throw new BerthError('import-not-granted', `app ${app} refused: ${list}`, {
    app,
    refused: refused.map((r) => r.interface),
  });
}
