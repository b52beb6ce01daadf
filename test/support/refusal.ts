import { expect } from 'vitest';
import { BerthError } from '../../common/errors.js';

/** The BerthError `pending` rejects with; fails the test if it settles any other way. */
export async function rejectionOf(pending: Promise<unknown>): Promise<BerthError> {
  const err = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BerthError);
  return err as BerthError;
}

/** The BerthError `run` throws; fails the test if it throws anything else or nothing. */
export function thrownBy(run: () => unknown): BerthError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(BerthError);
    return err as BerthError;
  }
  throw new Error('expected a BerthError, nothing was thrown');
}
