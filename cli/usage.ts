import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BerthError } from '../common/errors.js';

/**
 * A command line that cannot be run as written: exit code 2, where a refusal by the control
 * plane is 1, so scripts can tell "fix the command" from "the fleet said no".
 */
export class UsageError extends BerthError {
  constructor(message: string) {
    super('cli.usage', message);
  }
}

/** A parseArgs option table: how a command parses its flags, and what completion offers. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs whose complaints (an unknown option, a missing value) are usage errors naming the
 * option, rather than Node's TypeError.
 */
export function parseCommandLine<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS_')) throw new UsageError(err.message);
    throw err;
  }
}

/** A whole, positive number of something from a flag, or a usage error naming the flag. */
export function positiveInteger(value: string | undefined, flag: string, max = 1_000_000): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${flag} must be a whole number from 1 to ${max}, not '${value}'`);
  return n;
}

/** Exactly the positional arguments a subcommand takes, or a usage error saying which. */
export function expectArgs(positionals: string[], n: number, usage: string): string[] {
  if (positionals.length !== n) throw new UsageError(`usage: ${usage}`);
  return positionals;
}
