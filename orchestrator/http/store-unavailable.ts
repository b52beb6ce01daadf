import { HttpProblem } from './problem.js';

/** Node socket errors of a connection to the database that is gone or never came up. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * PostgreSQL's own codes for "not now": class 08 (connection exception) and 57P01-57P03 (the
 * server is shutting down, crashed, or still starting and recovering).
 */
const SERVER_CODE = /^(08...|57P0[123])$/;

/**
 * The problem to answer when a request failed because the store could not be reached (a
 * PostgreSQL restart or failover, a network cut), or undefined for any other error. The client
 * is told to try again, with a 503 and a hint, rather than sent an internal error: nothing is
 * wrong with the request or the control plane, and an outage of the database must not fill the
 * error log. Its transaction rolled back, or (connection lost while committing) holds what the
 * retry asks for again: device requests are idempotent, and an operator's retried create says 409.
 */
export function storeUnavailable(err: unknown): HttpProblem | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  const lost =
    (typeof code === 'string' && (SOCKET_CODES.has(code) || SERVER_CODE.test(code))) ||
    /^(Connection terminated|Client has encountered a connection error)/.test(err.message);
  if (!lost) return undefined;
  return new HttpProblem(503, 'store.unavailable', 'The control plane cannot reach its store', {
    detail: 'the database is unreachable or restarting; try again',
    retryAfterSeconds: 2,
  });
}
