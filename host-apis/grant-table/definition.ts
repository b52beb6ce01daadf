import { BerthError } from '../../common/errors.js';
import type { GrantName, GrantSet } from '../../wire/grants.js';
import type { InstanceServices } from '../linker.js';

/** Builds the host object of one interface for one instance, from the instance's grants. */
export type Provider = (services: InstanceServices) => unknown;

/** Grants as the CLI collects them before `parseGrants` checks them (defaults still to come). */
export type RawGrants = Record<string, any>;

/** Adds what one `--grant FLAG[=VALUE]` says to the grants collected so far. */
export type FlagParser = (value: string | undefined, into: RawGrants, flag: string) => void;

/**
 * One grant, in one place: which interfaces it lets a component import, the host object each
 * of them is built from (like a Wasmtime linker entry: an object made from the grant and linked
 * in, never a global switch), and how `--grant` spells it. The grant's schema is the wire's
 * (wire/grants.ts); its main-thread bridge handlers, if any, are listed by grant name in
 * runtime/grant-handlers.ts, which sandbox threads never load.
 */
export interface GrantDefinition<N extends GrantName = GrantName> {
  name: N;
  /** Unversioned interface names; a component may import these only with this grant. */
  providers: Readonly<Record<string, Provider>>;
  /** The `--grant` flags this grant answers to (`config` also answers to `secret`). */
  flags: Readonly<Record<string, FlagParser>>;
  /** One line of `--grant` help. */
  usage: string;
  /** The grant as it may be logged, when it holds something that must not be (config secrets). */
  forLog?: (grant: NonNullable<GrantSet[N]>) => NonNullable<GrantSet[N]>;
}

/** The entry of any one grant (a union, so each keeps its own grant's types). */
export type AnyGrantDefinition = { [N in GrantName]: GrantDefinition<N> }[GrantName];

/** The interfaces a grant allows: the ones it provides. */
export function interfacesOf(definition: Pick<GrantDefinition, 'providers'>): string[] {
  return Object.keys(definition.providers);
}

export function needValue(flag: string, value: string | undefined): string {
  if (!value) throw new BerthError('invalid-grant', `--grant ${flag} needs a value (${flag}=...)`);
  return value;
}

/** A part of a multi-interface host object, as one interface's provider. */
export function part<T extends object>(host: (s: InstanceServices) => T, key: keyof T): Provider {
  return (services) => host(services)[key];
}
